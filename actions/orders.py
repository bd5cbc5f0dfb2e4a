"""Order status in plain words: where it is and when it arrives."""
from __future__ import annotations

import re
from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions import policy
from actions.acting import OrderAction
from actions.common import ask_resolved, order_vars, service
from actions.refunds import say_refund_in_progress
from core.text import to_simplified
from orders.service import Order

RESPONSES = {
    ("ride", "created"): "utter_status_ride_waiting",
    ("ride", "accepted"): "utter_status_ride_on_the_way",
    ("ride", "arrived"): "utter_status_ride_arrived",
    ("ride", "in_trip"): "utter_status_ride_in_trip",
    ("ride", "completed"): "utter_status_ride_completed",
    ("food", "paid"): "utter_status_food_paid",
    ("food", "preparing"): "utter_status_food_preparing",
    ("food", "delivering"): "utter_status_food_delivering",
    ("food", "delivered"): "utter_status_food_delivered",
    ("food", "payment_failed"): "utter_status_food_payment_failed",
    ("parcel", "created"): "utter_status_parcel_created",
    ("parcel", "picked_up"): "utter_status_parcel_moving",
    ("parcel", "in_transit"): "utter_status_parcel_moving",
    ("parcel", "out_for_delivery"): "utter_status_parcel_moving",
    ("parcel", "delivered"): "utter_status_parcel_delivered",
}


def status_variables(order: Order) -> Dict[str, Any]:
    d = order.details
    variables: Dict[str, Any] = {
        **order_vars(order),
        # the same estimate every reply gives (status, delay): one ETA per conversation
        "eta_minutes": policy.fresh_eta_minutes(order),
        "driver": d.get("driver") or "",
        "plate": d.get("plate") or "",
        "car": d.get("car") or "",
        "pickup": d.get("pickup") or "",
        "dropoff": d.get("dropoff") or "",
        "merchant": d.get("merchant") or "",
        "rider": d.get("rider") or "",
        "receiver_city": d.get("receiver_city") or "",
        "pickup_window": d.get("pickup_window") or "",
    }
    for key in ("completed_at", "delivered_at", "promised_at"):
        variables[key.replace("_at", "_time")] = policy.when_text(order.time(key))
    if order.events:
        last = order.events[-1]
        variables.update(
            last_place=last["place"], last_event=last["description"], last_time=last["at"][5:16].replace("T", " ")
        )
    else:
        variables.update(last_place="", last_event="", last_time="")
    return variables


#: a status question about the money rather than the order (那钱多久能到账, 款什么时候退回来)
MONEY_WORDS = re.compile(r"钱|款|到账|退回|refund", re.IGNORECASE)


def asks_about_money(tracker: Tracker) -> bool:
    return bool(MONEY_WORDS.search(to_simplified(str(tracker.latest_message.get("text") or ""))))


def status_response(order: Order) -> str:
    """The status reply for ``order``'s type and state."""
    fallback = "utter_status_cancelled" if order.status == "cancelled" else "utter_status_generic"
    return RESPONSES.get((order.order_type, order.status), fallback)


class ActionOrderStatus(OrderAction):
    def name(self) -> Text:
        return "action_order_status"

    def handle(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order) -> List[EventType]:
        if asks_about_money(tracker) and say_refund_in_progress(dispatcher, order):
            # "那钱多久能到账" after a refund: where the money is, not where the order is
            return ask_resolved()
        dispatcher.utter_message(response=status_response(order), **status_variables(order))
        late = policy.late_minutes(order, service().now())
        if late > 0 and order.status not in ("delivered", "completed", "cancelled"):
            dispatcher.utter_message(response="utter_status_late_note", late_minutes=late)
        dispatcher.utter_message(response="utter_ask_resolved")
        return ask_resolved()
