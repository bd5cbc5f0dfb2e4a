"""Identity check: `identity_form` (order number or phone number).

- an order number: format-checked (S10 check digit, 19-digit food, R+14 ride),
  looked up, and refused politely when it belongs to another phone;
- a phone number: that customer's recent orders, offered as buttons;
- a customer signed in through the app (a verified token, core/identity.py)
  is checked with the token's phone, without a question: one order of that
  phone is verified, several are offered; any other phone's order is refused;
- each wrong answer gets a specific polite re-ask; after the policy's number
  of failures the chat goes to a person (reason identity_failed).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import policy
from actions.anger import anger_due, anger_handoff
from actions.common import current_order, localise, service
from actions.common import signed_in_phone as _signed_in_phone
from actions.orders import status_response, status_variables
from actions.selection import pick
from orders.service import Order
from orders.validation import IdentityInput, normalise_phone, parse_identity
from core.pii import mask_order, mask_phone
from core.text import to_simplified

PROBLEM_RESPONSES = {
    "missing": "utter_identity_missing",
    "too_short": "utter_identity_too_short",
    "too_long": "utter_identity_wrong_length",
    "wrong_length": "utter_identity_wrong_length",
    "phone_letters": "utter_identity_phone_letters",
    "phone_prefix": "utter_identity_phone_prefix",
    "parcel_check_digit": "utter_identity_parcel_check",
    "ride_length": "utter_identity_ride_length",
}


def _offer_orders(dispatcher: CollectingDispatcher, phone: str, orders: List[Order]) -> Dict[Text, Any]:
    """"This phone has N orders": the slots that make action_ask_order_id offer them as buttons."""
    dispatcher.utter_message(response="utter_identity_phone_found", phone_masked=mask_phone(phone), count=len(orders))
    return {"order_id": None, "candidate_orders": [o.order_id for o in orders], "identity_reask": False}


def _flow_before_latest_message(tracker: Tracker) -> Optional[str]:
    """The value current_flow had before the customer's latest message, if any."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen_user = True
            continue
        if seen_user and event.get("event") == "slot" and event.get("name") == "current_flow":
            return event.get("value")
    return None


def _offered(tracker: Tracker) -> List[Order]:
    """The orders offered to choose from, in the order they were offered."""
    found = (service().find_order(c) for c in tracker.get_slot("candidate_orders") or [])
    return [o for o in found if o is not None]


def _latest_entity(tracker: Tracker, name: str) -> Optional[str]:
    for entity in reversed(tracker.latest_message.get("entities") or []):
        if entity.get("entity") == name:
            return str(entity.get("value"))
    return None


class ValidateIdentityForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_identity_form"

    async def extract_order_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """A signed-in customer's phone stands in for the answer (no identity question),
        unless the message brought its own answer or the customer is choosing among offered orders."""
        phone = _signed_in_phone(tracker)
        if not phone or tracker.get_slot("order_id") or tracker.get_slot("candidate_orders"):
            return {}
        if "order_id" in tracker.slots_to_validate():
            return {}
        return {"order_id": phone}

    def validate_order_id(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if isinstance(slot_value, list):
            slot_value = slot_value[-1] if slot_value else None
        switched = self._other_type(dispatcher, tracker)
        if switched is not None:
            return switched
        offered = _offered(tracker)
        ref = _latest_entity(tracker, "order_ref")
        if ref is not None:
            if ref.isdigit() and 1 <= int(ref) <= len(offered):
                return self._success(dispatcher, tracker, offered[int(ref) - 1], via="phone")
            return self._pick_again(dispatcher, offered)
        candidates = [_latest_entity(tracker, "order_id"), _latest_entity(tracker, "phone_number"), str(slot_value or "")]
        parsed = parse_identity(str(slot_value or ""))
        for candidate in candidates:
            attempt = parse_identity(candidate)
            if candidate and attempt.kind != "invalid":
                parsed = attempt
                break
        if parsed.kind == "order":
            order = service().find_order(parsed.value)
            if order is None:
                return self._fail(dispatcher, tracker, "utter_identity_order_not_found", order_masked=mask_order(parsed.value))
            bound = _signed_in_phone(tracker) or normalise_phone(
                tracker.get_slot("verified_phone") or tracker.get_slot("phone_number"))
            if bound and bound != order.phone:
                return self._fail(
                    dispatcher, tracker, "utter_identity_order_other_phone",
                    order_masked=mask_order(order.order_id), phone_masked=mask_phone(bound),
                )
            # the order number and its phone, both given: that is the second factor too
            if tracker.get_slot("verified") and tracker.get_slot("order_id") == order.order_id:
                return self._success(dispatcher, tracker, order)  # the check again for the next flow: as it was
            typed = normalise_phone(_latest_entity(tracker, "phone_number")) or (
                normalise_phone(tracker.get_slot("verified_phone")) if tracker.get_slot("verified_by") == "phone" else None)
            return self._success(dispatcher, tracker, order, via="order", both=typed == order.phone)
        if parsed.kind == "phone":
            bound = _signed_in_phone(tracker) or normalise_phone(tracker.get_slot("verified_phone"))
            if bound and bound != parsed.value:
                return self._fail(dispatcher, tracker, "utter_identity_phone_other", phone_masked=mask_phone(bound))
            orders = service().orders_for_phone(parsed.value)
            if not orders:
                return self._fail(dispatcher, tracker, "utter_identity_phone_no_orders", phone_masked=mask_phone(parsed.value))
            wanted_type = tracker.get_slot("order_type")
            of_type = [o for o in orders if o.order_type == wanted_type]
            if of_type:
                orders = of_type
            if len(orders) == 1:
                return self._success(dispatcher, tracker, orders[0], via="phone")
            # "139 0000 1111 川味小馆那单酸菜鱼洒了": the same message may already say which
            named = pick(to_simplified(str(tracker.latest_message.get("text") or "")), orders)
            if len(named) == 1:
                return self._success(dispatcher, tracker, named[0], via="phone")
            return {**_offer_orders(dispatcher, parsed.value, orders), "phone_number": parsed.value}
        if offered:
            text = to_simplified(str(tracker.latest_message.get("text") or ""))
            chosen = pick(text, offered)
            if len(chosen) == 1:
                return self._success(dispatcher, tracker, chosen[0], via="phone")
            if 1 < len(chosen) < len(offered):
                dispatcher.utter_message(response="utter_identity_pick_narrowed", count=len(chosen))
                return {"order_id": None, "candidate_orders": [o.order_id for o in chosen], "identity_reask": False}
            return self._pick_again(dispatcher, offered)
        if _acknowledged(tracker, parsed):
            # "好的" / "谢谢" after "not found, please check": the customer goes to look, not a failed attempt
            dispatcher.utter_message(response="utter_identity_waiting")
            return {"order_id": None, "identity_reask": True}
        return self._fail(dispatcher, tracker, PROBLEM_RESPONSES[parsed.problem or "missing"], digits=parsed.digits)

    def _other_type(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[Dict[Text, Any]]:
        """A verified customer's next problem names another order type (还有个快递…):
        that type's order of the same phone, without a new identity check."""
        wanted = _latest_entity(tracker, "order_type")
        phone = normalise_phone(tracker.get_slot("verified_phone"))
        if not (wanted and phone and tracker.get_slot("verified")):
            return None
        if _latest_entity(tracker, "order_id") or _latest_entity(tracker, "phone_number"):
            return None
        current = service().find_order(str(tracker.get_slot("order_id") or ""))
        if current is not None and current.order_type == wanted:
            return None
        orders = [o for o in service().orders_for_phone(phone) if o.order_type == wanted]
        if not orders:
            return None
        if len(orders) == 1:
            return self._success(dispatcher, tracker, orders[0])
        return _offer_orders(dispatcher, phone, orders)

    def _pick_again(self, dispatcher: CollectingDispatcher, offered: List[Order]) -> Dict[Text, Any]:
        """Not a choice we understood: ask again with the same buttons (no failed attempt)."""
        if not offered:
            dispatcher.utter_message(response="utter_identity_missing")
            return {"order_id": None, "identity_reask": True}
        dispatcher.utter_message(response="utter_identity_pick_again")
        return {"order_id": None, "identity_reask": False}

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        """Validate, and keep the problem the customer named before the check.

        While the check asks, the answer ("川味小馆那单") is read as an intent
        too, and the slot current_flow follows intents: the flow the customer
        asked for stays the one that runs after the check.
        """
        asked = tracker.get_slot("requested_slot") == "order_id"
        before = _flow_before_latest_message(tracker)
        events = await super().run(dispatcher, tracker, domain)
        # "open" (a number came first) gives way to the problem the answer names
        if asked and before and before != "open" and tracker.get_slot("current_flow") != before:
            events.append(SlotSet("current_flow", before))
        return events

    def _success(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order,
                 via: Optional[str] = None, both: bool = False) -> Dict[Text, Any]:
        """Verified. ``via``: what identified the customer ("order" number or "phone"),
        which decides the second factor asked before acting (actions/second_factor.py);
        None keeps the earlier one. ``both``: the order number and its phone were given."""
        already = tracker.get_slot("verified") and tracker.get_slot("order_id") == order.order_id
        if not already:
            dispatcher.utter_message(
                response="utter_identity_verified",
                order_masked=mask_order(order.order_id),
                order_type_name=policy.type_name(order.order_type),
            )
        return {
            "order_id": order.order_id,
            "phone_number": order.phone,
            "verified_phone": order.phone,
            "order_type": order.order_type,
            "verified": True,
            "identity_attempts": 0,
            "candidate_orders": None,
            "identity_reask": False,
            "order_masked": mask_order(order.order_id),
            "verified_by": via or tracker.get_slot("verified_by"),
            **({"factor_ok": order.order_id} if both else {}),
        }

    def _fail(self, dispatcher: CollectingDispatcher, tracker: Tracker, response: str, **variables: Any) -> Dict[Text, Any]:
        attempts = int(tracker.get_slot("identity_attempts") or 0) + 1
        if attempts >= policy.identity_max_attempts():
            dispatcher.utter_message(response="utter_identity_failed_handoff")
            return {
                "order_id": None,
                "identity_attempts": 0,
                "identity_reask": False,
                "verified": False,
                "requested_slot": None,
                "handoff_reason": "identity_failed",
                "handoff_summary": f"身份核验连续{attempts}次未通过,客户诉求:{policy.flow_name(tracker.get_slot('current_flow'))}",
            }
        dispatcher.utter_message(response=response, **variables)
        return {"order_id": None, "identity_attempts": attempts, "identity_reask": True}


#: intents that only acknowledge the bot's last line (INTENTS.md)
ACK_INTENTS = frozenset({"thank", "affirm"})


def _acknowledged(tracker: Tracker, parsed: IdentityInput) -> bool:
    """A bare 好的 / 谢谢 / 明白了 with no digits at all: the customer is going to look the number up."""
    ranking = [i.get("name") for i in tracker.latest_message.get("intent_ranking") or [] if i.get("name") != "nlu_fallback"]
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    if intent == "nlu_fallback" and ranking:  # 好的,解决了: below the threshold, but the best guess is an acknowledgement
        intent = ranking[0]
    return intent in ACK_INTENTS and parsed.problem in (None, "missing") and not parsed.digits


class ActionAskOrderId(Action):
    """Asks for the order number, or offers the phone's recent orders as buttons."""

    def name(self) -> Text:
        return "action_ask_order_id"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        if tracker.get_slot("identity_reask"):
            return [SlotSet("identity_reask", False)]
        orders = _offered(tracker)
        if orders:
            # an opaque reference (the position in the offered list), never the order number
            buttons = [
                {"title": localise(tracker, policy.order_label(o)), "payload": '/inform{"order_ref":"%d"}' % i}
                for i, o in enumerate(orders, start=1)
            ]
            dispatcher.utter_message(response="utter_ask_pick_order", buttons=buttons)
        else:
            dispatcher.utter_message(response="utter_ask_order_id")
        return []


class ActionOpenFlow(Action):
    """A number came before the problem: check it first, then ask what happened."""

    def name(self) -> Text:
        return "action_open_flow"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        return [SlotSet("current_flow", "open")]


class ActionAskProblem(Action):
    """After the identity check of a bare number: what happened with this order?"""

    def name(self) -> Text:
        return "action_ask_problem"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        order = current_order(tracker)
        if anger_due(tracker):
            return anger_handoff(dispatcher, tracker, order)
        if order is not None:
            # where the order stands first (and how late it is): often that already answers it
            dispatcher.utter_message(response=status_response(order), **status_variables(order))
            late = policy.late_minutes(order, service().now())
            if late > 0 and order.status not in ("delivered", "completed", "cancelled"):
                dispatcher.utter_message(response="utter_status_late_note", late_minutes=late)
        dispatcher.utter_message(response="utter_ask_problem")
        return [SlotSet("current_flow", None)]
