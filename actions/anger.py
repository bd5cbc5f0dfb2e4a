"""Anger: when an upset customer gets a person, and what they asked for is kept.

The Nth angry message in a conversation (data/policies.yml, anger), or one
message of fury (an insult, shouting with !!!: bot/nlu/sentiment.py), hands the
chat to a person at P1 with an apology. The request in progress (refund,
cancellation...) is not dropped: it goes into the ticket summary for the
agent, and the customer is told the person will do it. No sentences here:
the responses are in domain/safety.yml.
"""
from __future__ import annotations

from typing import List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions import policy
from actions.common import anger_already_handled, angry_messages, handoff, summary, user_events
from core.pii import mask_order
from orders.service import Order


def fury(tracker: Tracker) -> bool:
    """One message of fury so far (an insult may come before the order number)."""
    return any(((e.get("parse_data") or {}).get("sentiment") or {}).get("fury") for e in user_events(tracker))


def anger_due(tracker: Tracker) -> bool:
    """Hand over for anger now: enough angry messages, or fury, and not handed over for it yet."""
    if anger_already_handled(tracker):
        return False
    return angry_messages(tracker) >= policy.anger_threshold() or fury(tracker)


def anger_handoff(dispatcher: CollectingDispatcher, tracker: Tracker, order: Optional[Order]) -> List[EventType]:
    """Apology, the request kept for the person, and the hand-over (reason anger, P1)."""
    flow = tracker.get_slot("current_flow")
    request = policy.flow_name(flow)
    dispatcher.utter_message(response="utter_anger_handoff")
    if flow and order is not None:
        dispatcher.utter_message(response="utter_anger_request_kept_order", request=request,
                                 order_masked=mask_order(order.order_id), amount=f"{order.amount:.2f}")
    elif flow:
        dispatcher.utter_message(response="utter_anger_request_kept", request=request)
    words = (tracker.latest_message or {}).get("text") or ""
    return handoff("anger", summary(order, f"客户情绪激动,当前诉求:{request}(请直接为客户办理)",
                                    f"客户原话:{words.strip()[:80]}"))
