"""What the bridge does, between the HTTP edge (handoff/routes/) and Redis (handoff/queue/).

Masks personal data for agents, tells customers what is happening (with
domain responses), keeps the Rasa tracker complete, and turns agent actions
into queue operations.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import secrets
import uuid
from typing import Any, Dict, List, Mapping, Optional

from core import keys
from core.responses import render
from handoff import intake, labels, phrases
from handoff.agents import Agent, AgentDirectory
from handoff.exceptions import BadRequest, EscalationLimited, ForbiddenPhrase, NotInHandoff, TicketNotFound
from handoff.limits import DEFAULT_ESCALATIONS_PER_HOUR, WindowCounter
from handoff.orders import OrdersReader
from handoff.outbox import Outbox
from handoff.privacy import Masker
from handoff.queue import PRIORITIES, HandoffQueue, Message, NewTicket, priority_for
from handoff.relay import Relay
from handoff.views import TicketViews, as_int

logger = logging.getLogger(__name__)

#: how Rasa's tracker writes an intent the bridge triggered (EXTERNAL: EXTERNAL_handoff_resolved)
BRIDGE_TRIGGER = re.compile(r"EXTERNAL: EXTERNAL_\w+")

class HandoffService:
    def __init__(
        self,
        queue: HandoffQueue,
        agents: AgentDirectory,
        relay: Relay,
        masker: Masker,
        outbox: Optional[Outbox] = None,
        escalations_per_hour: int = DEFAULT_ESCALATIONS_PER_HOUR,
        orders: Optional[OrdersReader] = None,
    ) -> None:
        self.queue = queue
        self.agents = agents
        self.relay = relay
        self.masker = masker
        self.outbox = outbox
        self.orders = orders
        self.views = TicketViews(queue, orders)
        self.escalations = WindowCounter(queue.redis, 3600, escalations_per_hour)

    async def mask(self, text: str) -> str:
        return await asyncio.to_thread(self.masker.mask, text)

    def _say(self, name: str, ticket: Mapping[str, str], **variables: Any) -> str:
        return render(name, traditional=ticket.get("traditional") == "1", **variables)

    async def notify(self, ticket: Mapping[str, str], utter: str, kind: str, **variables: Any) -> str:
        """Send a domain response to the customer; log it in transcript and tracker."""
        text = self._say(utter, ticket, **variables)
        metadata: Dict[str, Any] = {"from": "handoff", "kind": kind}
        metadata.update({k: v for k, v in variables.items() if k == "agent_name"})
        sender = ticket["sender"]
        await self.relay.to_customer(sender, ticket.get("channel", ""), {"text": text, "metadata": metadata})
        await self.queue.append(sender, "bot", text, text)
        await self.relay.log_bot(sender, text, metadata)
        return text

    # ---- bot side ------------------------------------------------------------

    async def _count_escalation(self, sender: str, escalation_id: str, safety: bool) -> None:
        """Count a new ticket against the sender's hourly allowance; EscalationLimited past it.

        Counted here because every escalation passes here (action_handoff, its
        outbox, the bridge's own outbox drain). A retry of a known escalation
        and a conversation already in handoff open no ticket, so they are not
        counted. Safety is counted but never refused: it always goes to a person.
        """
        if escalation_id and await self.queue.redis.exists(keys.escalation(escalation_id)):
            return
        if await self.queue.conversation_state(sender):
            return
        if not await self.escalations.take(keys.escalation_count(sender), force=safety):
            logger.warning("escalation refused for %s: over the hourly limit", sender)
            raise EscalationLimited()

    async def escalate(self, payload: Mapping[str, Any]) -> Dict[str, Any]:
        reason = str(payload.get("reason") or "request_human")
        sentiment = str(payload.get("sentiment") or "")
        priority = str(payload.get("priority") or priority_for(reason, sentiment))
        if priority not in PRIORITIES:
            raise BadRequest("priority 只能是 P0、P1 或 P2")
        await self._count_escalation(str(payload["sender"]), str(payload.get("escalation_id") or ""),
                                     safety=reason == "safety" or priority == "P0")
        transcript: List[Message] = []
        for item in payload.get("transcript") or []:
            text = str(item.get("text") or "")
            if not text or (item.get("role") == "user" and BRIDGE_TRIGGER.fullmatch(text)):
                continue  # Rasa's record of the bridge's own trigger intent is no customer turn
            transcript.append(
                Message(role=str(item.get("role") or "user"), text=text, masked=await self.mask(text),
                        ts=as_int(str(item.get("ts") or 0)), agent_name="")
            )
        summary = str(payload.get("summary") or "")
        new = NewTicket(
            sender=str(payload["sender"]),
            channel=str(payload.get("channel") or ""),
            reason=reason,
            priority=priority,
            summary=await self.mask(summary),
            intents=[str(i) for i in payload.get("intents") or []],
            order_ref=str(payload.get("order_id") or ""),
            order_type=str(payload.get("order_type") or ""),
            sentiment=sentiment,
            transcript=transcript,
            escalation_id=str(payload.get("escalation_id") or uuid.uuid4().hex),
            traditional=bool(payload.get("traditional")),
        )
        ticket_id, created = await self.queue.escalate(new)
        if created:  # the customer's earlier conversations, for the console's panel
            await self.queue.redis.zadd(keys.customer_tickets(new.sender), {ticket_id: self.queue.clock()})
            await self.queue.redis.expire(keys.customer_tickets(new.sender), self.queue.retention_seconds)
        token = secrets.token_urlsafe(24)
        await self.queue.set_customer_token(new.sender, hashlib.sha256(token.encode()).hexdigest())
        status = await self.conversation(new.sender)
        ticket = await self.queue.ticket(ticket_id)
        if created and payload.get("delayed"):
            # from the outbox: the bot was not paused and the customer was told it is delayed
            await self.relay.rasa.append_events(new.sender, [{"event": "pause"}])
            await self.notify(ticket, "utter_handoff_position", "queue_position",
                              position=status["position"] or 1, wait_minutes=status["wait_minutes"] or 1)
        return dict(status, created=created, priority=ticket["priority"], customer_token=token)

    async def conversation(self, sender: str) -> Dict[str, Any]:
        """Where a conversation stands: state, ticket, position, wait."""
        found = await self.queue.conversation_state(sender)
        if not found:
            return {"sender": sender, "state": "none", "ticket_id": None, "position": None, "wait_minutes": None}
        state, ticket_id = found
        position = await self.queue.position(ticket_id) if state == "waiting" else None
        wait = await self.queue.estimated_wait_minutes(position) if position else None
        return {"sender": sender, "state": state, "ticket_id": ticket_id, "position": position, "wait_minutes": wait}

    async def waiting_banner(self, ticket_id: str, position: int, wait_minutes: Optional[int]) -> str:
        """The chat page's banner while waiting, from the domain (the bubbles' position sentence)."""
        ticket = await self.queue.ticket(ticket_id)
        return self._say("utter_handoff_banner", ticket, position=position, wait_minutes=wait_minutes or 1)

    async def customer_typing(self, sender: str, typing: bool) -> Dict[str, Any]:
        """The customer is (or stopped) typing: tell the agent holding the chat."""
        found = await self.queue.conversation_state(sender)
        if not found or found[0] != "active":
            return {"delivered": False}
        return {"delivered": await self.queue.typing(sender, found[1], typing)}

    async def customer_presence(self, sender: str, online: bool) -> Dict[str, Any]:
        """The customer's chat page is open (heartbeat) or was closed, during a handoff."""
        found = await self.queue.conversation_state(sender)
        if not found:
            return {"recorded": False}
        await self.queue.presence(sender, found[1], online)
        return {"recorded": True}

    async def customer_message(self, sender: str, text: str) -> Dict[str, Any]:
        """A customer wrote while in handoff: keep it and show it to the agent."""
        found = await self.queue.conversation_state(sender)
        if not found:
            raise NotInHandoff()
        await self.queue.append(sender, "user", text, await self.mask(text))
        return await self.conversation(sender)

    async def leave(self, sender: str) -> Dict[str, Any]:
        """The customer no longer wants a person: close the ticket, resume the bot."""
        found = await self.queue.conversation_state(sender)
        if not found:
            raise NotInHandoff()
        await self.queue.leave(found[1])
        await self.relay.rasa.append_events(sender, [{"event": "resume"}])
        return {"sender": sender, "state": "none", "ticket_id": found[1]}

    async def bump_safety(self, sender: str) -> Dict[str, Any]:
        found = await self.queue.conversation_state(sender)
        if not found:
            raise NotInHandoff()
        await self.queue.bump(found[1], "P0")
        return await self.conversation(sender)

    # ---- agents ---------------------------------------------------------------

    async def ticket_view(self, ticket: Mapping[str, str], transcript: bool = True) -> Dict[str, Any]:
        """The ticket as the console shows it (handoff/views.py), transcript included unless told not."""
        return await self.views.ticket(ticket, transcript)

    async def queue_for(self, agent: Agent) -> List[Dict[str, Any]]:
        """The waiting tickets (masked), each marked with whether this agent may claim it now."""
        return await self.views.waiting_for(agent)

    async def visible_ticket(self, agent: Agent, ticket_id: str) -> Dict[str, str]:
        """Waiting tickets are visible to every agent; held ones only to the holder."""
        ticket = await self.queue.ticket(ticket_id)
        if ticket["state"] == "waiting":
            return ticket
        if ticket["state"] == "active" and ticket.get("owner") == agent.id:
            return ticket
        if ticket["state"] == "closed":
            raise TicketNotFound()
        return await self.queue.require_owner(ticket_id, agent.id)

    async def claimed(self, agent: Agent, ticket_id: str, fresh: bool) -> Dict[str, Any]:
        ticket = await self.queue.ticket(ticket_id)
        if fresh:
            await self.notify(ticket, "utter_handoff_agent_joined", "agent_joined", agent_name=agent.name)
        return await self.ticket_view(ticket)

    async def claim(self, agent: Agent, ticket_id: str) -> Dict[str, Any]:
        before = await self.queue.ticket(ticket_id)
        await self.queue.touch_agent(agent.id, agent.skills)
        claim = await self.queue.claim(ticket_id, agent.id, agent.name, agent.skills)
        return await self.claimed(agent, claim.ticket_id, fresh=before.get("state") == "waiting")

    async def claim_next(self, agent: Agent) -> Dict[str, Any]:
        await self.queue.touch_agent(agent.id, agent.skills)
        claim = await self.queue.claim_next(agent.id, agent.name, agent.skills)
        return await self.claimed(agent, claim.ticket_id, fresh=True)

    async def agent_message(self, agent: Agent, ticket_id: str, text: str, client_id: str = "") -> Dict[str, Any]:
        """Send an agent's message once.

        Refused with a forbidden phrase (no override: the service guide never
        allows one). ``client_id`` is the console's idempotency key: a retry of
        a send whose answer was slow or lost is answered with the first
        message's id and not sent again.
        """
        ticket = await self.queue.require_owner(ticket_id, agent.id)
        found = phrases.forbidden_in(text)
        if found:
            raise ForbiddenPhrase("回复含服务忌语“" + "”“".join(f["phrase"] for f in found) + "”,不能发送;建议:"
                                  + ";".join(f["suggestion"] for f in found if f["suggestion"]))
        await self.queue.renew(ticket_id, agent.id)
        if client_id:
            key = keys.sent(ticket_id, client_id)
            if not await self.queue.redis.set(key, "pending", nx=True, ex=86400):
                first = str(await self.queue.redis.get(key) or "")
                return {"id": "" if first == "pending" else first, "delivered": True, "duplicate": True}
        sender = ticket["sender"]
        metadata = {"from": "agent", "agent_name": agent.name}
        try:
            message_id, _, _ = await self.queue.append(sender, "agent", text, await self.mask(text), agent.name)
        except Exception:
            if client_id:  # not stored: a retry with the same key must be sent, not called a duplicate
                await self.queue.redis.delete(keys.sent(ticket_id, client_id))
            raise
        if client_id:
            await self.queue.redis.set(keys.sent(ticket_id, client_id), message_id, ex=86400)
        await self.relay.to_customer(sender, ticket.get("channel", ""), {"text": text, "metadata": metadata})
        logged = await self.relay.log_bot(sender, text, metadata)
        return {"id": message_id, "delivered": True, "logged_in_tracker": logged, "duplicate": False}

    async def transfer(self, agent: Agent, ticket_id: str, to_agent: str, skill: str) -> Dict[str, Any]:
        if not to_agent and not skill:
            raise BadRequest("请指定转接的坐席 agent_id 或技能组 skill")
        if to_agent and self.agents.get(to_agent) is None:
            raise BadRequest("找不到要转接的坐席")
        ticket = await self.queue.require_owner(ticket_id, agent.id)
        await self.queue.transfer(ticket_id, agent.id, to_agent, skill)
        await self.notify(ticket, "utter_handoff_transferred", "transferred")
        return {"id": ticket_id, "state": "waiting", "position": await self.queue.position(ticket_id)}

    async def _finish(self, ticket: Mapping[str, str], intent: str, entities: Mapping[str, str]) -> List[Dict[str, Any]]:
        sender = ticket["sender"]
        # action_handoff paused the bot without an action_listen after it; without
        # one the rules that start with the external intent would not match.
        await self.relay.rasa.append_events(sender, [{"event": "resume"}, {"event": "action", "name": "action_listen"}])
        messages = await self.relay.rasa.trigger_intent(sender, intent, entities)
        if not messages:
            await self.notify(ticket, "utter_handoff_closed", "handoff_closed")
            return []
        relayed = []
        for index, message in enumerate(messages):
            out: Dict[str, Any] = {"text": message.get("text") or "", "metadata": {"from": "bot"}}
            if index == 0:
                out["metadata"]["kind"] = "handoff_closed"
            buttons = message.get("buttons") or []
            if buttons:
                out["quick_replies"] = [
                    {"content_type": "text", "title": b.get("title", ""), "payload": b.get("payload", "")} for b in buttons
                ]
            await self.relay.to_customer(sender, ticket.get("channel", ""), out)
            if out["text"]:
                await self.queue.append(sender, "bot", out["text"], await self.mask(out["text"]))
            relayed.append(out)
        return relayed

    async def resolve(self, agent: Agent, ticket_id: str) -> Dict[str, Any]:
        ticket = await self.queue.require_owner(ticket_id, agent.id)
        await self.queue.resolve(ticket_id, agent.id, "resolved")
        relayed = await self._finish(ticket, "EXTERNAL_handoff_resolved", {})
        return {"id": ticket_id, "state": "closed", "outcome": "resolved", "relayed": len(relayed)}

    async def handback(self, agent: Agent, ticket_id: str, flow: str) -> Dict[str, Any]:
        if flow not in labels.flow_names():  # a flow the bot does not have ends in fallbacks
            raise BadRequest("flow 不是机器人的流程:" + "、".join(labels.flow_names()))
        ticket = await self.queue.require_owner(ticket_id, agent.id)
        await self.queue.resolve(ticket_id, agent.id, "handback")
        relayed = await self._finish(ticket, "EXTERNAL_handoff_handback", {"flow": flow})
        return {"id": ticket_id, "state": "closed", "outcome": "handback", "flow": flow, "relayed": len(relayed)}

    async def reveal(self, agent: Agent, ticket_id: str, message_id: str, index: int) -> Dict[str, Any]:
        """One personal value in clear for the agent holding the ticket; audited."""
        ticket = await self.queue.require_owner(ticket_id, agent.id)
        message = await self.queue.message(ticket["sender"], message_id)
        if message is None:
            raise BadRequest("找不到该消息")
        found = await asyncio.to_thread(self.masker.find, message.text)
        if not 0 <= index < len(found):
            raise BadRequest("该消息中没有对应的个人信息")
        item = found[index]
        await self.queue.audit("reveal", ticket_id, agent.id, f"message={message_id};label={item['label']};index={index}")
        return {"label": item["label"], "value": item["value"], "message_id": message_id, "index": index}

    # ---- background --------------------------------------------------------------

    async def reap_once(self) -> List[str]:
        back = await self.queue.reap()
        for ticket_id in back:
            try:
                ticket = await self.queue.ticket(ticket_id)
                await self.notify(ticket, "utter_handoff_agent_left", "queue_position")
            except Exception:
                logger.exception("could not tell the customer of ticket %s it is back in the queue", ticket_id)
        return back

    async def drain_outbox(self) -> int:
        if self.outbox is None:
            return 0
        return await self.outbox.deliver(self._escalate_from_outbox)

    async def _escalate_from_outbox(self, payload: Dict[str, Any]) -> None:
        try:
            await self.escalate(intake.escalation(dict(payload, delayed=True)))
        except EscalationLimited:
            # retrying cannot help and would hold up every later escalation in the outbox
            logger.warning("stored escalation for %s dropped: over the hourly limit", payload.get("sender"))
