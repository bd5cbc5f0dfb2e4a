"""Electronic invoices: record a request to a validated e-mail address."""
from __future__ import annotations

from typing import List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.acting import OrderAction
from actions.common import ask_resolved, money, order_vars, service
from actions.second_factor import ActingOrderAction
from orders.service import Order
from orders.validation import normalise_email
from core.pii import mask_email

INVOICEABLE = {"completed", "delivered"}


def _email_in_message(tracker: Tracker) -> Optional[str]:
    held = tracker.get_slot("held_answer")
    if held:  # the e-mail given before the second factor was asked
        return normalise_email(held)
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == "email":
            email = normalise_email(str(entity.get("value")))
            if email:
                return email
    return normalise_email(tracker.latest_message.get("text"))


class ActionInvoiceCheck(OrderAction):
    def name(self) -> Text:
        return "action_invoice_check"

    def handle(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order) -> List[EventType]:
        if order.status not in INVOICEABLE:
            dispatcher.utter_message(response="utter_invoice_not_ready", **order_vars(order))
            dispatcher.utter_message(response="utter_ask_resolved")
            return ask_resolved()
        dispatcher.utter_message(response="utter_invoice_ask_email", **order_vars(order))
        return [SlotSet("pending", "invoice_email")]


class ActionInvoiceRecord(ActingOrderAction):
    reads_answer = True

    def name(self) -> Text:
        return "action_invoice_record"

    def handle(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order) -> List[EventType]:
        email = _email_in_message(tracker)
        if email is None:
            dispatcher.utter_message(response="utter_invoice_email_invalid")
            return [SlotSet("pending", "invoice_email")]
        record = service().record_invoice_request(order.order_id, email, order.amount)
        dispatcher.utter_message(
            response="utter_invoice_done", email_masked=mask_email(email), invoice_id=record.record_id,
            invoice_amount=money(order.amount), **order_vars(order),
        )
        dispatcher.utter_message(response="utter_ask_resolved")
        return ask_resolved() + [SlotSet("email", email)]
