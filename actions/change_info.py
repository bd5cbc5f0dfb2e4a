"""Change address / phone / recipient / pickup point: only before dispatch or pickup."""
from __future__ import annotations

from typing import List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import policy
from actions.acting import OrderAction
from actions.common import answer_text, ask_resolved, order_vars, service
from actions.second_factor import ActingOrderAction
from orders.service import Order


class ActionChangeInfoCheck(OrderAction):
    def name(self) -> Text:
        return "action_change_info_check"

    def handle(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order) -> List[EventType]:
        if policy.can_change_info(order):
            dispatcher.utter_message(response="utter_change_info_ask_new", **order_vars(order))
            return [SlotSet("pending", "change_info")]
        dispatcher.utter_message(response=f"utter_change_info_too_late_{order.order_type}", **order_vars(order))
        dispatcher.utter_message(response="utter_ask_resolved")
        return ask_resolved()


class ActionChangeInfoExecute(ActingOrderAction):
    """Records the customer's change request (their own words) for the platform."""

    reads_answer = True

    def name(self) -> Text:
        return "action_change_info_execute"

    def handle(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order) -> List[EventType]:
        text = answer_text(tracker)
        if not policy.can_change_info(order):
            dispatcher.utter_message(response=f"utter_change_info_too_late_{order.order_type}", **order_vars(order))
            dispatcher.utter_message(response="utter_ask_resolved")
            return ask_resolved()
        record = service().change_order_info(order.order_id, text)
        dispatcher.utter_message(response="utter_change_info_done", change_id=record.record_id, **order_vars(order))
        dispatcher.utter_message(response="utter_ask_resolved")
        return ask_resolved()
