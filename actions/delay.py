"""Late driver / rider / parcel: apology, fresh ETA, compensation by the table."""
from __future__ import annotations

from typing import List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import policy
from actions.acting import OrderAction
from actions.common import ask_resolved, handoff, money, order_vars, service, summary
from actions.orders import status_response, status_variables
from orders.service import Order

IN_PROGRESS = {"created", "accepted", "paid", "preparing", "delivering", "picked_up", "in_transit", "out_for_delivery"}


class ActionDelayHandle(OrderAction):
    def name(self) -> Text:
        return "action_delay_handle"

    def handle(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order) -> List[EventType]:
        svc = service()
        late = policy.late_minutes(order, svc.now())
        variables = order_vars(order)
        in_progress = order.status in IN_PROGRESS
        if late <= 0:
            # where it is now, then that it is still within the promise
            dispatcher.utter_message(response=status_response(order), **status_variables(order))
            if in_progress:
                dispatcher.utter_message(response="utter_delay_within_promise")
            dispatcher.utter_message(response="utter_ask_resolved")
            return ask_resolved()
        dispatcher.utter_message(response="utter_delay_apology", late_minutes=late, **variables)
        if in_progress:
            # who has it and the one ETA (the status reply names rider/driver, plate)
            dispatcher.utter_message(response=status_response(order), **status_variables(order))
        if policy.ride_fare_waived(order, late):
            if policy.over_limit(order.amount):
                dispatcher.utter_message(response="utter_over_limit_handoff", refund_amount=money(order.amount))
                return handoff("over_limit", summary(order, f"司机迟到{late}分钟,应免单{money(order.amount)}元,超过自动上限"))
            svc.issue_coupon(order.order_id, order.amount, f"司机迟到{late}分钟,免除车费")
            dispatcher.utter_message(response="utter_delay_fare_waived", late_minutes=late, **variables)
        else:
            coupon = policy.coupon_for_delay(late)
            if coupon > 0:
                svc.issue_coupon(order.order_id, coupon, f"超时{late}分钟补偿")
                dispatcher.utter_message(response="utter_delay_coupon", coupon=coupon)
        if in_progress and policy.can_reassign(order):
            dispatcher.utter_message(response="utter_delay_offer_reassign", **variables)
            return [SlotSet("pending", "reassign")]
        dispatcher.utter_message(response="utter_ask_resolved")
        return ask_resolved()
