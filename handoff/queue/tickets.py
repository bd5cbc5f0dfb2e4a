"""Tickets: escalation (the bot side), priority bumps, leaving, queue position and reading tickets.

Ordering: a waiting ticket sits in one sorted set with score
``class * 1e13 + enqueue ms`` (P0 = class 0 first, FIFO inside a class; the
enqueue ms is made strictly increasing in Lua, so same-millisecond arrivals
never tie and fall back to ticket-id order). The score is kept on the
ticket, so a ticket whose lease expired, or that was transferred, goes back
to its *old* place, not the end of the line.
"""
from __future__ import annotations

import json
import secrets
from typing import Any, Dict, List, Optional, Sequence, Tuple

from core import keys
from handoff.exceptions import BY_CODE, QueueUnavailable
from handoff.queue.base import (
    CLASS_SPAN,
    DEFAULT_HANDLE_MS,
    PRIORITIES,
    NewTicket,
    QueueCore,
    raise_for,
    redis_errors,
)


class Tickets(QueueCore):
    """Opening, bumping, closing by the customer, and reading tickets."""

    @redis_errors
    async def escalate(self, new: NewTicket) -> Tuple[str, bool]:
        """Put a conversation in the queue: (ticket id, created).

        Idempotent per escalation id and per conversation: a conversation
        already waiting or with an agent keeps its ticket (and is bumped if
        the new reason is more urgent).
        """
        if new.priority not in PRIORITIES:
            raise ValueError(f"unknown priority {new.priority!r}")
        now = self.clock()
        klass = PRIORITIES.index(new.priority)
        ticket_id = secrets.token_hex(8)
        fields: Dict[str, Any] = {
            "id": ticket_id,
            "sender": new.sender,
            "channel": new.channel,
            "priority": new.priority,
            "klass": klass,
            "reason": new.reason,
            "summary": new.summary,
            "intents": json.dumps(new.intents, ensure_ascii=False),
            "order_ref": new.order_ref,
            "order_type": new.order_type,
            "sentiment": new.sentiment,
            "created_ms": now,
            "sla_deadline_ms": now + self.sla_ms[new.priority],
            "score": klass * CLASS_SPAN + now,
            "required_skill": "safety" if new.priority == "P0" else "",
            "reserved_for": "",
            "escalation_id": new.escalation_id,
            "traditional": "1" if new.traditional else "0",
        }
        transcript = [
            {"role": m.role, "text": m.text, "masked": m.masked, "ts": str(m.ts), "agent_name": m.agent_name}
            for m in new.transcript
        ]
        result = await self.scripts["escalate"](
            args=[keys.PREFIX, str(now), json.dumps({k: str(v) for k, v in fields.items()}, ensure_ascii=False),
                  json.dumps(transcript, ensure_ascii=False), new.escalation_id, str(self.retention_seconds)]
        )
        tid = str(result[1])
        if result[0] == "dup":
            await self.bump(tid, new.priority)
        await self._replicated()
        return tid, result[0] != "dup"

    async def _replicated(self) -> None:
        """WAIT for ``wait_replicas`` replicas; QueueUnavailable (503) when fewer confirm in time.

        Why: Redis replicates asynchronously, so a master that dies right after
        answering can take an acknowledged ticket with it when a replica is
        promoted. Refused here, the escalation stays in the caller's durable
        outbox and is sent again (idempotent by escalation id) until a replica has it.
        """
        if self.wait_replicas <= 0:
            return
        confirmed = int(await self.redis.execute_command("WAIT", self.wait_replicas, self.wait_ms))
        if confirmed < self.wait_replicas:
            raise QueueUnavailable(f"只有 {confirmed} 个副本确认 (replicas confirmed: {confirmed}/{self.wait_replicas})")

    @redis_errors
    async def bump(self, ticket_id: str, priority: str) -> bool:
        """Raise a ticket to a more urgent class, keeping its enqueue time."""
        klass = PRIORITIES.index(priority)
        result = await self._run("bump", ticket_id, klass, priority, "safety" if klass == 0 else "")
        raise_for(result)
        return bool(result[1] == "bumped")

    @redis_errors
    async def conversation_state(self, sender: str) -> Optional[Tuple[str, str]]:
        """(state, ticket id) when the conversation is in handoff: one GET."""
        raw = await self.redis.get(keys.conversation(sender))
        if not raw:
            return None
        state, _, tid = str(raw).partition(":")
        return state, tid

    @redis_errors
    async def leave(self, ticket_id: str, actor: str = "customer") -> str:
        """The customer no longer wants a person (不用了): ticket closed."""
        result = await self._run("close", ticket_id, actor, "left", "any", self.closed_ttl)
        raise_for(result)
        return str(result[1])

    @redis_errors
    async def position(self, ticket_id: str) -> Optional[int]:
        rank = await self.redis.zrank(keys.QUEUE, ticket_id)
        return None if rank is None else int(rank) + 1

    @redis_errors
    async def estimated_wait_minutes(self, position: int) -> int:
        """From the recent handling times and the agents online now."""
        raw = await self.redis.lrange(keys.HANDLE_TIMES, 0, 49)
        times = [int(x) for x in raw]
        average = sum(times) / len(times) if times else DEFAULT_HANDLE_MS
        online = await self.redis.zcount(keys.ONLINE, self.clock() - self.online_ms, "+inf")
        capacity = max(1, int(online) * self.max_chats)
        return max(1, int(-(-(position * average / capacity) // 60000)))

    # ---- reading ------------------------------------------------------------

    @redis_errors
    async def ticket(self, ticket_id: str) -> Dict[str, str]:
        data = await self.redis.hgetall(keys.ticket(ticket_id))
        if not data:
            raise BY_CODE["ticket_not_found"]()
        return {str(k): str(v) for k, v in data.items()}

    @redis_errors
    async def waiting(self, limit: int = 200) -> List[Dict[str, str]]:
        ids = await self.redis.zrange(keys.QUEUE, 0, limit - 1)
        return await self._tickets(ids)

    @redis_errors
    async def agent_tickets(self, agent_id: str) -> List[Dict[str, str]]:
        ids = sorted(await self.redis.smembers(keys.agent_chats(agent_id)))
        return await self._tickets(ids)

    async def _tickets(self, ids: Sequence[str]) -> List[Dict[str, str]]:
        pipe = self.redis.pipeline(transaction=False)
        for tid in ids:
            pipe.hgetall(keys.ticket(tid))
        rows = await pipe.execute()
        return [{str(k): str(v) for k, v in row.items()} for row in rows if row]
