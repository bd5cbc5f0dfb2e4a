"""Payment anomalies: refund a duplicate charge or a paid-but-failed order, else escalate."""
from __future__ import annotations

from typing import List, Text, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import policy
from actions.acting import OrderAction
from actions.common import ask_resolved, handoff, money, order_vars, service, summary
from actions.second_factor import ActingOrderAction
from orders.service import Order, Payment


def refundable_payments(order: Order) -> Tuple[str, List[Payment]]:
    """('duplicate' | 'paid_but_failed' | 'none', the payments to give back)."""
    paid = [p for p in service().payments_for_order(order.order_id) if p.status == "success"]
    if order.status == "payment_failed" and paid:
        return "paid_but_failed", paid
    if len(paid) > 1:
        return "duplicate", paid[1:]
    return "none", []


class ActionPaymentCheck(OrderAction):
    def name(self) -> Text:
        return "action_payment_check"

    def handle(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order) -> List[EventType]:
        kind, payments = refundable_payments(order)
        total = round(sum(p.amount for p in payments), 2)
        variables = order_vars(order)
        if kind == "none":
            dispatcher.utter_message(response="utter_payment_no_anomaly_handoff", **variables)
            return handoff("unresolved", summary(order, "客户反映支付异常,系统未查到重复扣款或失败扣款,需人工核查支付流水"))
        if policy.over_limit(total):
            dispatcher.utter_message(response="utter_over_limit_handoff", refund_amount=money(total))
            return handoff("over_limit", summary(order, f"支付异常需退{money(total)}元,超过自动退款上限"))
        response = "utter_payment_duplicate_found" if kind == "duplicate" else "utter_payment_paid_but_failed"
        dispatcher.utter_message(
            response=response, refund_amount=money(total), count=len(payments) + (1 if kind == "duplicate" else 0),
            arrival_days=policy.refund_arrival_days(), **variables,
        )
        return [SlotSet("pending", "payment_refund")]


class ActionPaymentRefundExecute(ActingOrderAction):
    def name(self) -> Text:
        return "action_payment_refund_execute"

    def handle(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order) -> List[EventType]:
        kind, payments = refundable_payments(order)
        if kind == "none":
            dispatcher.utter_message(response="utter_payment_already_refunded", **order_vars(order))
            dispatcher.utter_message(response="utter_ask_resolved")
            return ask_resolved()
        records = [service().refund_payment(p.payment_id, "重复扣款退回" if kind == "duplicate" else "已付款未成单退回")
                   for p in payments]
        dispatcher.utter_message(
            response="utter_payment_refund_done", refund_id=records[0].record_id,
            refund_amount=money(sum(r.amount for r in records)), arrival_days=policy.refund_arrival_days(),
            **order_vars(order),
        )
        dispatcher.utter_message(response="utter_ask_resolved")
        return ask_resolved()
