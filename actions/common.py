"""Shared helpers: the current order, handoff events, conversation signals.

No Chinese sentences here: every user-visible text is a response in domain/.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet

from actions import policy
from orders.service import Order, OrderService, get_order_service
from orders.validation import normalise_phone
from core.pii import mask_order, mask_phone
from core.identity import CLAIMS_KEY
from core.text import conversation_script, to_script

HANDOFF_REASONS = {
    "safety", "request_human", "fallback", "identity_failed", "low_rating", "anger", "over_limit", "unresolved",
}


def service() -> OrderService:
    return get_order_service()


def money(value: float) -> str:
    return f"{value:.2f}"


def order_vars(order: Order) -> Dict[str, Any]:
    """Template variables every order response may use."""
    return {
        "order_masked": mask_order(order.order_id),
        "order_type_name": policy.type_name(order.order_type),
        "phone_masked": mask_phone(order.phone),
        "amount": money(order.amount),
        "state_name": policy.status_name(order.status),
    }


def handoff(reason: str, summary: str) -> List[EventType]:
    """Events that hand the chat to a person (contract with actions/handoff.py)."""
    if reason not in HANDOFF_REASONS:
        raise ValueError(f"unknown handoff reason {reason!r}")
    return [
        SlotSet("handoff_reason", reason),
        SlotSet("handoff_summary", summary),
        SlotSet("pending", None),
        FollowupAction("action_handoff"),
    ]


def summary(order: Optional[Order], *parts: Any) -> str:
    """One line for the agent: '外卖订单 …2345 ' + the given parts (no customer PII)."""
    head = f"{policy.type_name(order.order_type)}订单 {mask_order(order.order_id)}" if order else "未核实订单"
    return ",".join([head, *[str(p) for p in parts if p not in (None, "")]])


def script(tracker: Tracker) -> str:
    """'hant' or 'hans': the script the conversation is in (core.text.conversation_script)."""
    texts = (str(e.get("text") or "") for e in reversed(tracker.events) if e.get("event") == "user")
    return conversation_script(t for t in texts if not t.startswith("/"))


def localise(tracker: Tracker, text: str) -> str:
    """A button title built here, in the conversation's script (Rasa converts the domain's)."""
    return to_script(text, script(tracker))


def user_events(tracker: Tracker) -> List[Dict[str, Any]]:
    return [e for e in tracker.events if e.get("event") == "user"]


def angry_messages(tracker: Tracker) -> int:
    count = 0
    for event in user_events(tracker):
        sentiment = (event.get("parse_data") or {}).get("sentiment") or {}
        if sentiment.get("label") == "angry":
            count += 1
    return count


def anger_already_handled(tracker: Tracker) -> bool:
    return any(
        e.get("event") == "slot" and e.get("name") == "handoff_reason" and e.get("value") == "anger"
        for e in tracker.events
    )


def consecutive_fallbacks(tracker: Tracker) -> int:
    count = 0
    for event in reversed(user_events(tracker)):
        if ((event.get("parse_data") or {}).get("intent") or {}).get("name") == "nlu_fallback":
            count += 1
        else:
            break
    return count


def current_order(tracker: Tracker) -> Optional[Order]:
    order_id = tracker.get_slot("order_id")
    if not order_id or not tracker.get_slot("verified"):
        return None
    return service().find_order(order_id)


def signed_in_phone(tracker: Tracker) -> Optional[str]:
    """The phone of a customer signed in through the app, from the latest message.

    Only the Kefu channels set this metadata, from a verified token (they strip
    any client's own): it is as good as a verified identity.
    """
    customer = (tracker.latest_message.get("metadata") or {}).get(CLAIMS_KEY)
    return normalise_phone(customer.get("phone")) if isinstance(customer, dict) else None


def answer_text(tracker: Tracker) -> str:
    """The customer's answer an action reads (an address, a description, an e-mail):
    the one held while the second factor was asked (actions/second_factor.py), else the latest message."""
    return str(tracker.get_slot("held_answer") or tracker.latest_message.get("text") or "").strip()


def ask_resolved() -> List[EventType]:
    return [SlotSet("pending", "resolved")]
