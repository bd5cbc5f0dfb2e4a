"""Damaged / lost / wrong goods: ask for a description, record a claim, compensate by policy."""
from __future__ import annotations

from typing import List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import policy
from actions.acting import OrderAction
from actions.common import answer_text, ask_resolved, handoff, money, order_vars, service, summary
from actions.second_factor import ActingOrderAction
from orders.service import Order
from core.text import to_simplified


def item_names(order: Order) -> List[str]:
    if order.order_type == "food":
        return [i["name"] for i in order.details.get("items", [])]
    item = order.details.get("item")
    return [item] if item else []


def _reported_damage(tracker: Tracker) -> str:
    """The customer's latest message that reported the damage, or ''."""
    for event in reversed(tracker.events):
        if event.get("event") == "user" and ((event.get("parse_data") or {}).get("intent") or {}).get("name") == "report_damage":
            return str(event.get("text") or "")
    return ""


def _description(tracker: Tracker) -> str:
    """What was damaged, in the customer's words: the answer to the question, or (for "好的")
    the message that reported the damage ("米饭少给了一盒"); '' when neither describes it."""
    description = answer_text(tracker)
    if not policy.is_description(to_simplified(description)):
        description = _reported_damage(tracker)
    return description if policy.is_description(to_simplified(description)) else ""


class ActionDamageCheck(OrderAction):
    def name(self) -> Text:
        return "action_damage_check"

    def handle(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order) -> List[EventType]:
        variables = order_vars(order)
        if order.order_type == "ride":
            dispatcher.utter_message(response="utter_damage_ride_handoff", **variables)
            return handoff("unresolved", summary(order, "乘车过程中物品遗失或损坏,需人工联系司机处理"))
        text = to_simplified(str(tracker.latest_message.get("text") or ""))
        if order.order_type == "parcel" and order.status == "delivered" and policy.says_not_received(text):
            # signed for, yet not received: say what the record shows, a person checks with the courier
            dispatcher.utter_message(response="utter_damage_signed_not_received",
                                     delivered_time=policy.when_text(order.time("delivered_at")), **variables)
            return handoff("unresolved", summary(order, "快递显示已签收,客户表示没有收到,需人工联系快递员核实"))
        dispatcher.utter_message(response="utter_damage_sorry", **variables)
        dispatcher.utter_message(response="utter_damage_ask_description", items="、".join(item_names(order)))
        return [SlotSet("pending", "damage_photo")]


class ActionDamageClaim(ActingOrderAction):
    reads_answer = True

    def name(self) -> Text:
        return "action_damage_claim"

    def acts_on(self, tracker: Tracker, order: Order) -> bool:
        description = _description(tracker)
        # no description yet (asked again, nothing paid) or over the limit (a person decides)
        return bool(description) and not policy.over_limit(policy.damage_compensation(order, to_simplified(description)))

    def handle(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order) -> List[EventType]:
        svc = service()
        description = _description(tracker)
        if not description:
            dispatcher.utter_message(response="utter_damage_ask_description", items="、".join(item_names(order)))
            return []
        amount = policy.damage_compensation(order, to_simplified(description))
        claim = svc.record_claim(order.order_id, item_names(order), description, amount)
        if policy.over_limit(amount):
            dispatcher.utter_message(response="utter_damage_over_limit", claim_id=claim.record_id,
                                     claim_amount=money(amount), **order_vars(order))
            return handoff("over_limit", summary(order, f"货损理赔{money(amount)}元(理赔单{claim.record_id}),超过自动赔付上限,需人工审核"))
        refund = svc.create_refund(order.order_id, amount, f"货损理赔 {claim.record_id}")
        coupon = policy.damage_extra_coupon()
        if coupon:
            svc.issue_coupon(order.order_id, coupon, "货损致歉")
        dispatcher.utter_message(
            response="utter_damage_claim_done", claim_id=claim.record_id, claim_amount=money(refund.amount),
            coupon=coupon, arrival_days=policy.refund_arrival_days(), **order_vars(order),
        )
        dispatcher.utter_message(response="utter_ask_resolved")
        return ask_resolved()
