"""Service complaints: a ticket with the 2-3-7 deadlines (reply, close, call back)."""
from __future__ import annotations

from typing import List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions import policy
from actions.acting import OrderAction
from actions.common import ask_resolved, order_vars, service, summary, user_events
from orders.service import Order

COURIER_KEY = {"ride": "driver", "food": "rider", "parcel": "courier"}


class ActionComplaintRecord(OrderAction):
    def name(self) -> Text:
        return "action_complaint_record"

    def handle(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order) -> List[EventType]:
        svc = service()
        now = svc.now()
        due = policy.complaint_due(now)
        complaint = next(
            (e.get("text") for e in reversed(user_events(tracker))
             if ((e.get("parse_data") or {}).get("intent") or {}).get("name") == "complain_service"),
            "",
        )
        ticket = svc.record_ticket(order.order_id, "service_attitude", summary(order, f"服务投诉:{complaint}"), due)
        dispatcher.utter_message(
            response=f"utter_complaint_recorded_{order.order_type}",
            ticket_id=ticket.record_id, person=order.details.get(COURIER_KEY[order.order_type]) or "",
            reply_by=f"{due['reply_by']:%H:%M}", close_by=f"{due['close_by']:%m-%d}",
            callback_by=f"{due['callback_by']:%m-%d}", **policy.complaint_hours(), **order_vars(order),
        )
        dispatcher.utter_message(response="utter_complaint_confirm")
        return ask_resolved()
