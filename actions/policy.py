"""Business rules, read from data/policies.yml (no thresholds in code).

Plain functions over :class:`~orders.service.Order`; no I/O except
loading the policy file once.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml

from core.paths import ROOT
from core.text import is_acknowledgement
from orders.service import Order

POLICY_FILE = Path(os.environ.get("KEFU_POLICIES", ROOT / "data" / "policies.yml"))


@lru_cache(maxsize=1)
def load(path: Path = POLICY_FILE) -> Dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def P() -> Dict[str, Any]:  # noqa: N802 - short accessor
    return load()


def type_name(order_type: Optional[str]) -> str:
    return P()["order_type_names"].get(order_type or "", "")


def identity_max_attempts() -> int:
    return int(P()["identity"]["max_failed_attempts"])


def second_factor_required() -> bool:
    return bool(P()["identity"].get("second_factor", True))


def second_factor_max_attempts() -> int:
    return int(P()["identity"].get("second_factor_max_attempts", 2))


def anger_threshold() -> int:
    return int(P()["anger"]["handoff_after_angry_messages"])


def fallback_threshold() -> int:
    return int(P()["fallback"]["handoff_after_consecutive"])


def auto_refund_limit() -> float:
    return float(P()["refund"]["auto_refund_limit"])


def over_limit(amount: float) -> bool:
    return amount > auto_refund_limit()


def refund_arrival_days() -> str:
    return str(P()["refund"]["arrival_days"])


def is_low_rating(rating: int) -> bool:
    return rating <= int(P()["rating"]["low_rating_max"])


# -- lateness -----------------------------------------------------------------
def late_minutes(order: Order, now: datetime) -> int:
    """Minutes past the promise (pickup for rides, delivery otherwise); 0 if on time."""
    if order.order_type == "ride":
        if order.status not in ("created", "accepted"):
            return 0
        promised = order.time("promised_pickup_at")
        actual = now
    else:
        promised = order.time("promised_at")
        actual = order.time("delivered_at") or now
    if promised is None:
        return 0
    return max(0, int((actual - promised).total_seconds() // 60))


def coupon_for_delay(minutes: int) -> int:
    """Coupon (yuan) from the compensation table: the highest tier reached."""
    coupon = 0
    for tier in sorted(P()["delay"]["compensation"], key=lambda t: t["late_minutes"]):
        if minutes >= tier["late_minutes"]:
            coupon = int(tier["coupon"])
    return coupon


def ride_fare_waived(order: Order, minutes: int) -> bool:
    return order.order_type == "ride" and minutes >= int(P()["delay"]["ride_fare_waiver_late_minutes"])


def fresh_eta_minutes(order: Order) -> int:
    return int(order.details.get("eta_minutes") or 0) + int(P()["delay"]["eta_buffer_minutes"])


# -- refunds ------------------------------------------------------------------
@dataclass(frozen=True)
class RefundDecision:
    eligible: bool
    amount: float = 0.0
    reason: str = "ok"  # ok | state | window | over_limit | cancelled


def refund_decision(order: Order, now: datetime) -> RefundDecision:
    rules = P()["refund"]
    if order.status == "cancelled":
        return RefundDecision(False, 0.0, "cancelled")
    states: List[str] = rules["refundable_states"].get(order.order_type, [])
    eligible = order.status in states
    if (
        not eligible
        and order.order_type == "food"
        and order.status == "delivering"
        and late_minutes(order, now) >= int(rules["food_delivering_refund_after_late_minutes"])
    ):
        eligible = True
    if not eligible:
        return RefundDecision(False, 0.0, "state")
    finished = order.time("delivered_at") or order.time("completed_at")
    window = int(rules["window_days"][order.order_type])
    if finished and now - finished > timedelta(days=window):
        return RefundDecision(False, 0.0, "window")
    amount = round(order.amount, 2)
    if over_limit(amount):
        return RefundDecision(False, amount, "over_limit")
    return RefundDecision(True, amount, "ok")


# -- cancel / reassign / change ----------------------------------------------
def cancel_fee(order: Order, now: datetime) -> Optional[float]:
    """Fee for cancelling now, or None when the order can no longer be cancelled."""
    rules = P()["cancel"]
    fees = rules["fees"].get(order.order_type, {})
    if order.status not in fees:
        return None
    fee = float(fees[order.status])
    if late_minutes(order, now) >= int(P()["delay"]["free_cancel_late_minutes"]):
        return 0.0
    if order.order_type == "ride" and order.status == "accepted":
        accepted = order.time("accepted_at")
        if accepted and now - accepted <= timedelta(minutes=int(rules["ride_free_cancel_minutes_after_accept"])):
            return 0.0
    return fee


def wants_reassign(text: Optional[str]) -> bool:
    return any(word in (text or "") for word in P()["cancel"]["reassign_keywords"])


def can_reassign(order: Order) -> bool:
    return order.status in P()["cancel"]["reassignable_states"].get(order.order_type, [])


def can_change_info(order: Order) -> bool:
    return order.status in P()["change_info"]["allowed_states"].get(order.order_type, [])


# -- fees -----------------------------------------------------------------------
@dataclass(frozen=True)
class FeeCheck:
    items_total: float
    charged: float
    adds_up: bool


def fee_check(order: Order) -> FeeCheck:
    d = order.details
    if order.order_type == "ride":
        fare = d.get("fare", {})
        total = fare.get("base", 0) + fare.get("distance_fee", 0) + fare.get("duration_fee", 0)
        total += sum((fare.get("surcharges") or {}).values())
    elif order.order_type == "food":
        total = sum(i["price"] * i["qty"] for i in d.get("items", []))
        total += d.get("delivery_fee", 0) + d.get("packing_fee", 0) - d.get("discount", 0)
    else:
        total = d.get("shipping_fee", 0)
    total = round(total, 2)
    tolerance = float(P()["fee_dispute"]["tolerance"])
    return FeeCheck(total, round(order.amount, 2), abs(total - order.amount) <= tolerance)


# -- damage -------------------------------------------------------------------
def damage_compensation(order: Order, description: str = "") -> float:
    """What a damage claim pays: the named items, or the whole order when all of it was wrong."""
    rules = P()["damage"]
    if order.order_type == "food":
        items = order.details.get("items", [])
        if any(word in description for word in rules.get("whole_order_words", [])):
            return round(order.amount * float(rules["food_compensation_ratio"]), 2)
        named = [i for i in items if str(i.get("name", "")) and str(i["name"]) in description]
        goods = sum(i["price"] * i["qty"] for i in (named or items))
        return round(goods * float(rules["food_compensation_ratio"]), 2)
    if order.order_type == "parcel":
        declared = float(order.details.get("declared_value") or 0)
        if declared > 0:
            return round(declared * float(rules["parcel_compensation_ratio"]), 2)
        return float(rules["parcel_uninsured_limit"])
    return 0.0


def damage_extra_coupon() -> int:
    return int(P()["damage"]["extra_coupon"])


# -- complaints ---------------------------------------------------------------
def complaint_due(now: datetime) -> Dict[str, datetime]:
    rules = P()["complaint"]
    return {
        "reply_by": now + timedelta(hours=int(rules["reply_within_hours"])),
        "close_by": now + timedelta(days=int(rules["close_within_days"])),
        "callback_by": now + timedelta(days=int(rules["callback_within_days"])),
    }


def complaint_hours() -> Dict[str, int]:
    rules = P()["complaint"]
    return {
        "reply_hours": int(rules["reply_within_hours"]),
        "close_days": int(rules["close_within_days"]),
        "callback_days": int(rules["callback_within_days"]),
    }


def flow_name(flow: Optional[str]) -> str:
    return P().get("flow_names", {}).get(flow or "", "未明确")


# -- order buttons --------------------------------------------------------------
def order_label(order: Order, now: Optional[datetime] = None) -> str:
    """What a customer recognises an order by: merchant or route, item, amount, time."""
    labels = P()["order_buttons"]
    d = order.details or {}
    when = when_text(order.created_at, now)
    names = [str(i.get("name")) for i in d.get("items") or [] if isinstance(i, dict) and i.get("name")]
    item = d.get("item") or (names[0] if len(names) == 1 else "")
    if len(names) > 1:
        item = labels["more_items"].format(first=names[0], count=len(names))
    values = {
        "type": type_name(order.order_type), "merchant": d.get("merchant", ""), "item": item,
        "pickup": d.get("pickup", ""), "dropoff": d.get("dropoff", ""),
        "sender_city": d.get("sender_city", ""), "receiver_city": d.get("receiver_city", ""),
        "amount": f"{order.amount:.2f}", "when": when,
    }
    return " ".join(labels[order.order_type].format(**values).split())


def status_name(status: Optional[str]) -> str:
    """The customer's word for an order state (配送中, 已完成 …)."""
    return str(P().get("status_names", {}).get(status or "", status or ""))


def when_text(moment: Optional[datetime], now: Optional[datetime] = None) -> str:
    """今天 14:05 / 明天 09:30 / 昨天 20:10 / 11-30 18:40: a time as a person says it."""
    if moment is None:
        return ""
    labels = P()["order_buttons"]
    now = now or datetime.now()
    time_text = f"{moment:%H:%M}"
    days = (moment.date() - now.date()).days
    key = {0: "today", 1: "tomorrow", -1: "yesterday"}.get(days)
    if key:
        return str(labels[key]).format(time=time_text)
    return str(labels["other"]).format(date=f"{moment:%m-%d}", time=time_text)


def says_not_received(text: str) -> bool:
    return any(word in text for word in P()["damage"].get("not_received_words", []))


def is_description(text: str) -> bool:
    """Whether ``text`` describes something (not just 好的 / 嗯 / an emoji)."""
    han = sum(1 for c in text if "\u4e00" <= c <= "\u9fff")
    return han >= 2 and not is_acknowledgement(text)
