"""Refunds: eligibility by order state and policy, ask, then create the record."""
from __future__ import annotations

from typing import List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import policy
from actions.acting import OrderAction
from actions.common import ask_resolved, handoff, money, order_vars, service, summary
from actions.second_factor import ActingOrderAction
from orders.service import Order

NOT_ELIGIBLE = {
    "state": "utter_refund_not_eligible_state",
    "window": "utter_refund_window_passed",
    "cancelled": "utter_refund_cancelled_order",
}


def _refused(dispatcher: CollectingDispatcher, order: Order, decision: policy.RefundDecision) -> Optional[List[EventType]]:
    """Over the automatic limit (a person approves) or not eligible: what to answer; None to go on.

    Checked when the refund is offered and again when the customer accepts
    (time has passed: the refund window may have closed meanwhile).
    """
    if decision.reason == "over_limit":
        dispatcher.utter_message(response="utter_over_limit_handoff", refund_amount=money(decision.amount))
        return handoff("over_limit", summary(
            order, f"申请退款{money(decision.amount)}元,超过自动退款上限{money(policy.auto_refund_limit())}元,需人工审批"))
    if not decision.eligible:
        dispatcher.utter_message(response=NOT_ELIGIBLE[decision.reason], **order_vars(order))
        dispatcher.utter_message(response="utter_ask_resolved")
        return ask_resolved()
    return None


def say_refund_in_progress(dispatcher: CollectingDispatcher, order: Order) -> bool:
    """Where the order's open refund is (amount, when, arrival) and was it solved; False if none is open."""
    open_refunds = [r for r in service().refunds_for_order(order.order_id) if r.status == "processing"]
    if not open_refunds:
        return False
    refund = open_refunds[-1]
    dispatcher.utter_message(
        response="utter_refund_in_progress", refund_id=refund.record_id, refund_amount=money(refund.amount),
        created_time=f"{refund.created_at:%m-%d %H:%M}", arrival_days=policy.refund_arrival_days(),
        **order_vars(order),
    )
    dispatcher.utter_message(response="utter_ask_resolved")
    return True


class ActionRefundCheck(OrderAction):
    def name(self) -> Text:
        return "action_refund_check"

    def handle(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order) -> List[EventType]:
        svc = service()
        if order.status == "payment_failed":
            # money taken for an order that never went through: the payment check refunds it
            return [SlotSet("current_flow", "payment"), FollowupAction("action_payment_check")]
        if say_refund_in_progress(dispatcher, order):
            return ask_resolved()
        decision = policy.refund_decision(order, svc.now())
        refused = _refused(dispatcher, order, decision)
        if refused is not None:
            return refused
        dispatcher.utter_message(
            response="utter_refund_offer", refund_amount=money(decision.amount),
            arrival_days=policy.refund_arrival_days(), **order_vars(order),
        )
        return [SlotSet("pending", "refund")]


class ActionRefundExecute(ActingOrderAction):
    def name(self) -> Text:
        return "action_refund_execute"

    def handle(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order) -> List[EventType]:
        svc = service()
        decision = policy.refund_decision(order, svc.now())
        refused = _refused(dispatcher, order, decision)
        if refused is not None:
            return refused
        refund = svc.create_refund(order.order_id, decision.amount, "客户申请退款")
        dispatcher.utter_message(
            response="utter_refund_done", refund_id=refund.record_id, refund_amount=money(refund.amount),
            arrival_days=policy.refund_arrival_days(), **order_vars(order),
        )
        dispatcher.utter_message(response="utter_ask_resolved")
        return ask_resolved()
