"""Second factor: an anonymous customer shows the order is theirs before the bot acts on it.

An order number or a phone number identifies a customer well enough to talk
about an order (where it is, how late it is), but anybody may have read one
off a receipt or a parcel label. Before the bot changes an order or sends its
data (refund, cancel, change of address, invoice, damage claim), a customer
who is not signed in through the app answers one more question the order
service checks (``verify_owner``):

- identified by an order number: the last four digits of the ordering phone
  (never shown to them: replies mask a phone only once it is proven);
- identified by a phone number: the account holder's surname (the phone's
  orders were listed, so their items and amounts are no secret).

An order number and its phone both given count as both factors. Signed-in
customers (core/identity.py) are never asked. A wrong answer is asked again;
after ``identity.second_factor_max_attempts`` the chat goes to a person
(reason identity_failed). The answer that led to the action (a new address,
the damage description, an e-mail) is held in the slot ``held_answer`` while
the question is open, so the action reads it afterwards
(:func:`actions.common.answer_text`).

Rescheduling a driver or rider is not gated: free, undone as easily, and it
neither moves money nor sends data.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import policy
from actions.acting import OrderAction
from actions.common import current_order, handoff, service, signed_in_phone, summary
from orders.service import Order
from core.text import to_simplified

QUESTIONS = {"phone_tail": "utter_factor_ask_phone_tail", "surname": "utter_factor_ask_surname"}
WRONG = {"phone_tail": "utter_factor_wrong_phone_tail", "surname": "utter_factor_wrong_surname"}
PENDING = "second_factor"


def factor_needed(tracker: Tracker, order: Order) -> Optional[str]:
    """The factor to ask before acting on ``order`` ("phone_tail" | "surname"), or None."""
    if not policy.second_factor_required() or signed_in_phone(tracker):
        return None
    if tracker.get_slot("factor_ok") == order.order_id:
        return None
    return "surname" if tracker.get_slot("verified_by") == "phone" else "phone_tail"


class ActingOrderAction(OrderAction):
    """An OrderAction that changes the order or sends its data: the second factor first."""

    #: reads the customer's latest message (an address, a description, an e-mail):
    #: it is held while the factor is asked
    reads_answer: bool = False

    def acts_on(self, tracker: Tracker, order: Order) -> bool:
        """False when this time the action only hands the chat to a person (over a limit): no factor then."""
        return True

    def before_acting(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order) -> Optional[List[EventType]]:
        kind = factor_needed(tracker, order)
        if kind is None or not self.acts_on(tracker, order):
            return None
        dispatcher.utter_message(response=QUESTIONS[kind])
        held = str(tracker.latest_message.get("text") or "") if self.reads_answer else None
        return [SlotSet("pending", PENDING), SlotSet("factor_for", self.name()), SlotSet("held_answer", held)]

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        events = await super().run(dispatcher, tracker, domain)
        asked = any(e.get("name") == "pending" and e.get("value") == PENDING for e in events if isinstance(e, dict))
        if tracker.get_slot("held_answer") and not asked:
            events.append(SlotSet("held_answer", None))  # read: not for the next action
        return events


def _clear(attempts: int = 0) -> List[EventType]:
    return [SlotSet("factor_for", None), SlotSet("factor_attempts", attempts)]


def answer_factor(dispatcher: CollectingDispatcher, tracker: Tracker, declined: bool) -> List[EventType]:
    """The customer's answer to the factor question (action_answer, pending second_factor)."""
    order = current_order(tracker)
    action = tracker.get_slot("factor_for")
    if order is None or not action:
        dispatcher.utter_message(response="utter_order_unavailable")
        return [SlotSet("pending", None), SlotSet("held_answer", None), *_clear()]
    if declined:
        dispatcher.utter_message(response="utter_factor_declined")
        return [SlotSet("pending", "anything_else"), SlotSet("held_answer", None), *_clear()]
    kind = factor_needed(tracker, order) or "phone_tail"
    text = to_simplified(str(tracker.latest_message.get("text") or ""))
    if service().verify_owner(order.order_id, kind, text):
        dispatcher.utter_message(response="utter_factor_ok")
        return [SlotSet("factor_ok", order.order_id), SlotSet("pending", None), *_clear(), FollowupAction(action)]
    attempts = int(tracker.get_slot("factor_attempts") or 0) + 1
    if attempts >= policy.second_factor_max_attempts():
        dispatcher.utter_message(response="utter_factor_failed_handoff")
        return [SlotSet("held_answer", None), *_clear(),
                *handoff("identity_failed", summary(order, f"办理前的本人核实连续{attempts}次未通过,需人工核实身份"))]
    dispatcher.utter_message(response=WRONG[kind])
    return [SlotSet("factor_attempts", attempts)]
