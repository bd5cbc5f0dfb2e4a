"""``action_handoff``: put the conversation in the human queue.

Reads ``handoff_reason`` / ``handoff_summary`` (set by other actions through
actions.common.handoff), the order slots and the latest message's sentiment,
collects the intents and transcript so far, and escalates to the handoff
bridge (POST {KEFU_HANDOFF_URL}/internal/escalate with the internal token).

If the bridge or its Redis cannot be reached, the escalation is written to a
durable local outbox (SQLite under KEFU_DATA_DIR) and the customer is told
plainly; it is delivered, in order, on the next call of this action, by a
background retry in the action server, or by the bridge when it starts. The
bot is then paused by the bridge when the escalation lands.

No customer-visible sentence is written here: responses are in
domain/handoff.yml.
"""
from __future__ import annotations

import asyncio
import logging
import os
import uuid
from typing import Any, Dict, List, Optional, Text

import httpx
from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from core.paths import data_dir
from core.secrets import stored_secret
from handoff.outbox import Outbox, default_path
from handoff.queue import priority_for

logger = logging.getLogger(__name__)

INTENT_REASONS = {"report_safety": "safety", "request_human": "request_human"}
REST_CHANNELS = {"rest", "kefu"}
TRANSCRIPT_LIMIT = 50
RETRY_SECONDS = 5.0

# One-line Chinese summaries for the agent when no other action wrote one.
_REASON_LABELS = {
    "safety": "安全问题,需优先处理",
    "request_human": "客户要求人工服务",
    "fallback": "机器人多次未能理解客户问题",
    "identity_failed": "身份核实未通过",
    "low_rating": "客户给出低评分",
    "anger": "客户情绪激动",
    "over_limit": "超出自动处理权限",
    "unresolved": "机器人处理后问题未解决",
}
_INTENT_LABELS = {
    "query_order_status": "查询订单状态",
    "request_refund": "申请退款",
    "report_delay": "反映延误",
    "report_safety": "反映安全问题",
    "payment_issue": "支付异常",
    "cancel_order": "取消订单",
    "complain_service": "投诉服务态度",
    "report_damage": "反映货损",
    "change_order_info": "修改订单信息",
    "fee_dispute": "费用争议",
    "request_invoice": "申请发票",
}


class BridgeUnavailable(Exception):
    """The bridge (or its Redis) did not take the escalation; retry later."""


class BridgeRejected(Exception):
    """The bridge refused the escalation as invalid; retrying cannot help."""


class EscalationLimited(BridgeRejected):
    """The customer opened KEFU_ESCALATIONS_PER_HOUR tickets this hour (HTTP 429): no new one.

    Never for safety: the bridge always queues those.
    """


def bridge_url() -> str:
    return (os.environ.get("KEFU_HANDOFF_URL") or "http://127.0.0.1:5006").rstrip("/")


def internal_token() -> str:
    token = os.environ.get("KEFU_INTERNAL_TOKEN")
    if token:
        return token
    return stored_secret(data_dir(), "internal_token")


async def send_escalation(payload: Dict[str, Any], timeout: float = 3.0) -> Dict[str, Any]:
    """POST one escalation to the bridge; the bridge's answer (position, wait...)."""
    try:
        async with httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=2.0)) as client:
            resp = await client.post(
                bridge_url() + "/internal/escalate", json=payload,
                headers={"Authorization": f"Bearer {internal_token()}"},
            )
    except httpx.HTTPError as exc:
        raise BridgeUnavailable(str(exc)) from exc
    if resp.status_code >= 500:
        raise BridgeUnavailable(f"HTTP {resp.status_code}")
    if resp.status_code in (401, 403):
        # the escalation is fine, the shared token is not (KEFU_INTERNAL_TOKEN differs after a
        # restart or a rotation): kept and retried, never dropped, until the operator fixes it
        logger.error("the bridge refused the internal token (HTTP %s): check KEFU_INTERNAL_TOKEN", resp.status_code)
        raise BridgeUnavailable(f"HTTP {resp.status_code}")
    if resp.status_code == 429:
        raise EscalationLimited("escalation limit")
    if resp.status_code >= 400:
        raise BridgeRejected(f"HTTP {resp.status_code}: {resp.text[:300]}")
    return dict(resp.json())


async def _deliver_one(payload: Dict[str, Any]) -> None:
    try:
        await send_escalation(dict(payload, delayed=True))
    except BridgeRejected:
        logger.error("bridge rejected a stored escalation for %s; dropping it", payload.get("sender"))


_retry_task: Optional["asyncio.Task[None]"] = None


async def _retry_forever(outbox: Outbox) -> None:
    while outbox.pending():
        await asyncio.sleep(RETRY_SECONDS)
        try:
            await outbox.deliver(_deliver_one)
        except Exception:
            logger.exception("outbox retry failed")


def _ensure_retry(outbox: Outbox) -> None:
    global _retry_task
    if _retry_task is None or _retry_task.done():
        _retry_task = asyncio.get_running_loop().create_task(_retry_forever(outbox))


def reason_of(tracker: Tracker) -> str:
    reason = tracker.get_slot("handoff_reason")
    if reason:
        return str(reason)
    intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
    return INTENT_REASONS.get(str(intent), "request_human")


def intents_seen(tracker: Tracker) -> List[str]:
    seen: List[str] = []
    for event in tracker.events:
        if event.get("event") != "user":
            continue
        name = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if name and name not in seen:
            seen.append(str(name))
    return seen


def transcript(tracker: Tracker) -> List[Dict[str, Any]]:
    lines = [
        {"role": e["event"], "text": str(e.get("text")), "ts": int(float(e.get("timestamp") or 0) * 1000)}
        for e in tracker.events
        if e.get("event") in ("user", "bot") and e.get("text")
    ]
    return lines[-TRANSCRIPT_LIMIT:]


def default_summary(reason: str, intents: List[str], order_id: Optional[str], order_type: Optional[str]) -> str:
    parts = [_REASON_LABELS.get(reason, "客户需要人工服务")]
    topics = [_INTENT_LABELS[i] for i in intents if i in _INTENT_LABELS]
    if topics:
        parts.append("诉求:" + "、".join(dict.fromkeys(topics)))
    if order_id:
        parts.append(f"订单 {order_id}")
    elif order_type:
        parts.append(f"订单类型 {order_type}")
    return ",".join(parts)


#: how many of the customer's last messages can make the ticket "frightened"
FEAR_LOOKBACK = 3


def sentiment_of(tracker: Tracker) -> str:
    """The latest message's sentiment label; ``fear`` when any of the last
    FEAR_LOOKBACK messages was frightened ("我好害怕" then "转人工" is still a
    frightened customer, P1)."""
    latest = str(((tracker.latest_message or {}).get("sentiment") or {}).get("label") or "calm")
    recent = [e for e in tracker.events if e.get("event") == "user"][-FEAR_LOOKBACK:]
    if any(((e.get("parse_data") or {}).get("sentiment") or {}).get("label") == "fear" for e in recent):
        return "fear"
    return latest


def build_payload(tracker: Tracker) -> Dict[str, Any]:
    latest = tracker.latest_message or {}
    reason = reason_of(tracker)
    sentiment = sentiment_of(tracker)
    intents = intents_seen(tracker)
    order_id = tracker.get_slot("order_id")
    order_type = tracker.get_slot("order_type")
    summary = tracker.get_slot("handoff_summary") or default_summary(reason, intents, order_id, order_type)
    return {
        "escalation_id": uuid.uuid4().hex,
        "sender": tracker.sender_id,
        "channel": tracker.get_latest_input_channel() or "",
        "reason": reason,
        "priority": priority_for(reason, sentiment),
        "summary": str(summary)[:500],
        "intents": intents,
        "order_id": str(order_id or "")[:64],
        "order_type": str(order_type or "")[:32],
        "sentiment": sentiment,
        "traditional": latest.get("script") == "hant",
        "transcript": transcript(tracker),
    }


class ActionHandoff(Action):
    def name(self) -> Text:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        payload = build_payload(tracker)
        outbox = Outbox(default_path())
        try:
            await outbox.deliver(_deliver_one)  # older escalations first, in order
            if outbox.pending():
                raise BridgeUnavailable("earlier escalations are still waiting")
            result = await send_escalation(payload)
        except EscalationLimited:
            # a person already has this customer's case this hour: a polite line, no new ticket,
            # and the bot keeps answering (not paused)
            logger.warning("handoff for %s refused: over the hourly escalation limit", tracker.sender_id)
            dispatcher.utter_message(response="utter_handoff_limit")
            return [SlotSet("handoff_reason", None)]
        except (BridgeUnavailable, BridgeRejected) as exc:
            logger.warning("handoff for %s delayed: %s", tracker.sender_id, exc)
            outbox.add(payload)
            _ensure_retry(outbox)
            # safety: the instructions (110 once) came just before from action_safety; one
            # bubble says the case is kept, never a second copy of them
            safety = payload["reason"] == "safety"
            dispatcher.utter_message(response="utter_handoff_delayed_safety" if safety else "utter_handoff_delayed")
            # the bot keeps answering until the escalation lands; the bridge pauses it then
            return [SlotSet("handoff_reason", None)]

        position, wait = result.get("position") or 1, result.get("wait_minutes") or 1
        if result.get("priority") == "P0":
            dispatcher.utter_message(response="utter_handoff_queued_safety", position=position, wait_minutes=wait)
        else:
            dispatcher.utter_message(response="utter_handoff_queued", position=position, wait_minutes=wait)
        if payload["channel"] in REST_CHANNELS and result.get("customer_token"):
            dispatcher.utter_message(json_message={"handoff": {
                "ticket_id": result.get("ticket_id"),
                "messages_url": f"{bridge_url()}/customer/{tracker.sender_id}/messages",
                "token": result["customer_token"],
            }})
        return [SlotSet("handoff_reason", None), ConversationPaused()]
