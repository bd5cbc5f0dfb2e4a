"""Cancel with the fee rules by order state; reassign the driver / rider."""
from __future__ import annotations

from typing import List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import policy
from actions.acting import OrderAction
from actions.common import ask_resolved, money, order_vars, service, user_events
from actions.second_factor import ActingOrderAction
from orders.service import Order


def _cancel_request_text(tracker: Tracker) -> Optional[str]:
    for event in reversed(user_events(tracker)):
        if ((event.get("parse_data") or {}).get("intent") or {}).get("name") == "cancel_order":
            return event.get("text")
    return None


class ActionCancelCheck(OrderAction):
    def name(self) -> Text:
        return "action_cancel_check"

    def handle(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order) -> List[EventType]:
        variables = order_vars(order)
        if policy.wants_reassign(_cancel_request_text(tracker)) and policy.can_reassign(order):
            # asked for by name and free of charge: done at once, no second confirmation
            return [FollowupAction("action_reassign_execute")]
        fee = policy.cancel_fee(order, service().now())
        if fee is None:
            dispatcher.utter_message(response="utter_cancel_not_possible", **variables)
            if policy.can_reassign(order):
                dispatcher.utter_message(response="utter_reassign_offer", **variables)
                return [SlotSet("pending", "reassign")]
            dispatcher.utter_message(response="utter_ask_resolved")
            return ask_resolved()
        if fee == 0:
            dispatcher.utter_message(response="utter_cancel_confirm_free", **variables)
        else:
            dispatcher.utter_message(response="utter_cancel_confirm_fee", cancel_fee=money(fee), **variables)
        return [SlotSet("pending", "cancel")]


class ActionCancelExecute(ActingOrderAction):
    def name(self) -> Text:
        return "action_cancel_execute"

    def handle(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order) -> List[EventType]:
        svc = service()
        fee = policy.cancel_fee(order, svc.now())
        if fee is None:
            dispatcher.utter_message(response="utter_cancel_not_possible", **order_vars(order))
            dispatcher.utter_message(response="utter_ask_resolved")
            return ask_resolved()
        cancelled = svc.cancel_order(order.order_id, fee, "客户申请取消")
        paid = sum(p.amount for p in svc.payments_for_order(order.order_id) if p.status == "success")
        back = round(max(0.0, paid - fee), 2)
        if back > 0:
            svc.create_refund(order.order_id, back, "取消订单退款")
        dispatcher.utter_message(
            response="utter_cancel_done", cancel_fee=money(fee), refund_amount=money(back),
            arrival_days=policy.refund_arrival_days(), **order_vars(cancelled),
        )
        dispatcher.utter_message(response="utter_ask_resolved")
        return ask_resolved()


class ActionReassignExecute(OrderAction):
    def name(self) -> Text:
        return "action_reassign_execute"

    def handle(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order) -> List[EventType]:
        if not policy.can_reassign(order):
            dispatcher.utter_message(response="utter_reassign_not_possible", **order_vars(order))
            dispatcher.utter_message(response="utter_ask_resolved")
            return ask_resolved()
        updated = service().reassign(order.order_id)
        courier = updated.details.get("driver" if order.order_type == "ride" else "rider") or ""
        dispatcher.utter_message(
            response="utter_reassign_done_ride" if order.order_type == "ride" else "utter_reassign_done",
            courier=courier, plate=updated.details.get("plate") or "", car=updated.details.get("car") or "",
            eta_minutes=policy.fresh_eta_minutes(updated), **order_vars(updated),
        )
        dispatcher.utter_message(response="utter_ask_resolved")
        return ask_resolved()
