"""Fee disputes: explain the breakdown; if it does not add up, a person checks it."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import policy
from actions.acting import OrderAction
from actions.common import ask_resolved, handoff, money, order_vars, service, summary
from orders.service import Order


def breakdown(order: Order) -> Dict[str, Any]:
    d = order.details
    if order.order_type == "ride":
        fare = d.get("fare", {})
        return {
            "base_fee": money(fare.get("base", 0)), "distance_km": fare.get("distance_km", 0),
            "distance_fee": money(fare.get("distance_fee", 0)), "duration_min": fare.get("duration_min", 0),
            "duration_fee": money(fare.get("duration_fee", 0)),
            "surcharge": money(sum((fare.get("surcharges") or {}).values())),
        }
    if order.order_type == "food":
        return {
            "goods_fee": money(sum(i["price"] * i["qty"] for i in d.get("items", []))),
            "delivery_fee": money(d.get("delivery_fee", 0)), "packing_fee": money(d.get("packing_fee", 0)),
            "discount": money(d.get("discount", 0)),
        }
    return {"weight_kg": d.get("weight_kg", 0), "shipping_fee": money(d.get("shipping_fee", 0))}


class ActionFeeExplain(OrderAction):
    def name(self) -> Text:
        return "action_fee_explain"

    def handle(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order) -> List[EventType]:
        if policy.ride_fare_waived(order, policy.late_minutes(order, service().now())):
            # "司机迟到这么久, 车费还要我付吗?": the lateness rule answers the fare question
            return [SlotSet("current_flow", "delay"), FollowupAction("action_delay_handle")]
        check = policy.fee_check(order)
        variables = order_vars(order)
        dispatcher.utter_message(response=f"utter_fee_breakdown_{order.order_type}", **breakdown(order), **variables)
        if check.adds_up:
            dispatcher.utter_message(response="utter_fee_adds_up", **variables)
            dispatcher.utter_message(response="utter_ask_resolved")
            return ask_resolved()
        difference = money(abs(check.charged - check.items_total))
        dispatcher.utter_message(
            response="utter_fee_mismatch_handoff", items_total=money(check.items_total),
            charged=money(check.charged), difference=difference,
        )
        return handoff("unresolved", summary(
            order, f"费用争议:明细合计{money(check.items_total)}元,实收{money(check.charged)}元,差额{difference}元,需人工核查"))
