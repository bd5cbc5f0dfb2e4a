"""Identity check: `identity_form` (order number or phone number).

- an order number: format-checked (S10 check digit, 19-digit food, R+14 ride),
  looked up, and refused politely when it belongs to another phone;
- a phone number: that customer's recent orders, offered as buttons;
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
from actions.common import service
from actions.services.orders import Order
from actions.validation import mask_order, mask_phone, normalise_phone, parse_identity

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


def _latest_entity(tracker: Tracker, name: str) -> Optional[str]:
    for entity in reversed(tracker.latest_message.get("entities") or []):
        if entity.get("entity") == name:
            return str(entity.get("value"))
    return None


class ValidateIdentityForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_identity_form"

    def validate_order_id(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if isinstance(slot_value, list):
            slot_value = slot_value[-1] if slot_value else None
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
            known_phone = normalise_phone(tracker.get_slot("phone_number"))
            if known_phone and known_phone != order.phone and not tracker.get_slot("verified"):
                return self._fail(
                    dispatcher, tracker, "utter_identity_order_other_phone",
                    order_masked=mask_order(order.order_id), phone_masked=mask_phone(known_phone),
                )
            return self._success(dispatcher, tracker, order)
        if parsed.kind == "phone":
            orders = service().orders_for_phone(parsed.value)
            if not orders:
                return self._fail(dispatcher, tracker, "utter_identity_phone_no_orders", phone_masked=mask_phone(parsed.value))
            wanted_type = tracker.get_slot("order_type")
            of_type = [o for o in orders if o.order_type == wanted_type]
            if of_type:
                orders = of_type
            if len(orders) == 1:
                return self._success(dispatcher, tracker, orders[0])
            dispatcher.utter_message(
                response="utter_identity_phone_found", phone_masked=mask_phone(parsed.value), count=len(orders)
            )
            return {
                "order_id": None,
                "phone_number": parsed.value,
                "candidate_orders": [o.order_id for o in orders],
                "identity_reask": False,
            }
        return self._fail(dispatcher, tracker, PROBLEM_RESPONSES[parsed.problem or "missing"], digits=parsed.digits)

    def _success(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order) -> Dict[Text, Any]:
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
            "order_type": order.order_type,
            "verified": True,
            "identity_attempts": 0,
            "candidate_orders": None,
            "identity_reask": False,
            "order_masked": mask_order(order.order_id),
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


class ActionAskOrderId(Action):
    """Asks for the order number, or offers the phone's recent orders as buttons."""

    def name(self) -> Text:
        return "action_ask_order_id"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        if tracker.get_slot("identity_reask"):
            return [SlotSet("identity_reask", False)]
        candidates = tracker.get_slot("candidate_orders") or []
        orders = [o for o in (service().find_order(c) for c in candidates) if o is not None]
        if orders:
            buttons = [
                {
                    "title": f"{policy.type_name(o.order_type)} {mask_order(o.order_id)} {o.created_at:%m-%d %H:%M}",
                    "payload": '/inform{"order_id":"%s"}' % o.order_id,
                }
                for o in orders
            ]
            dispatcher.utter_message(response="utter_ask_pick_order", buttons=buttons)
        else:
            dispatcher.utter_message(response="utter_ask_order_id")
        return []
