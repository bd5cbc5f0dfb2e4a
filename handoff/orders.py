"""A read-only view of the order platform for the agent console (customer panel, script variables).

The bridge must not import the action server (actions/), so it reads orders
through the order platform adapter (orders/service.py) in its read-only
mode: the same SQLite file the action server writes (``KEFU_ORDERS_DB``,
else ``$KEFU_DATA_DIR/orders.sqlite3``), opened with SQLite's ``mode=ro``,
so the bridge never writes an order. Everything it returns is masked with
the one masker (core.pii): the phone as 138****5678, the order number by its
last four, addresses down to the district; rider and driver are shown by
their work name (王师傅), their phones never.
"""
from __future__ import annotations

import logging
import re
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, List, Optional

from core import pii
from handoff import labels
from orders.service import Order, Payment, Record, SqliteOrderService

logger = logging.getLogger(__name__)

#: the details of an order an agent sees, in panel order (key -> label)
DETAIL_LABELS = {
    "merchant": "商家", "rider": "骑手", "driver": "司机", "plate": "车牌", "car": "车型", "courier": "快递公司",
    "eta_minutes": "预计还需(分钟)", "promised_at": "承诺送达", "promised_pickup_at": "承诺接驾",
    "pickup_window": "取件时间", "delivered_at": "送达时间",
}


_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})")


def shown(value: Any) -> str:
    """A detail as an agent reads it: 2026-12-02T02:35:36 -> 12-02 02:35; personal data masked."""
    text = str(value)
    when = _ISO.match(text)
    if when:
        return f"{when[2]}-{when[3]} {when[4]}:{when[5]}"
    return pii.mask_text(text)


def _at(when: Optional[datetime]) -> str:
    return when.isoformat() if when else ""


def _money(amount: float) -> str:
    return f"{float(amount):.2f}"


class OrdersReader:
    """One order with its refunds, claims and payments, masked; None when unknown or no DB."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.orders = SqliteOrderService(path, read_only=True)

    def _order(self, order_ref: str) -> Optional[tuple[Order, List[Record], List[Payment]]]:
        if not order_ref or not self.path.exists():
            return None
        try:
            order = self.orders.find_order(order_ref)
            if order is None:
                return None
            return order, self.orders.records_for_order(order.order_id), self.orders.payments_for_order(order.order_id)
        except (sqlite3.Error, ValueError) as exc:  # the panel is optional; the chat goes on
            logger.warning("order lookup failed: %s", exc)
            return None

    def variables(self, order_ref: str) -> Dict[str, str]:
        """The script variables every order response may use (masked), {} when unknown."""
        found = self._order(order_ref)
        if found is None:
            return {}
        order = found[0]
        return {
            "order_masked": pii.mask_order(order.order_id),
            "order_type_name": labels.ORDER_TYPE_NAMES.get(order.order_type, ""),
            "phone_masked": pii.mask_value("phone_number", order.phone),
            "amount": _money(order.amount),
            "state_name": labels.status_names().get(order.status, order.status),
        }

    def panel(self, order_ref: str) -> Optional[Dict[str, Any]]:
        """The customer panel's order: status, ETA, rider/driver, amount, refunds and claims (masked)."""
        found = self._order(order_ref)
        if found is None:
            return None
        order, records, payments = found
        details = order.details
        rows = [{"label": label, "value": shown(details[key])}
                for key, label in DETAIL_LABELS.items() if details.get(key) not in (None, "")]
        if details.get("address"):
            rows.append({"label": "地址", "value": pii.mask_text(str(details["address"]))})

        def of_kind(kind: str) -> List[Dict[str, Any]]:
            return [{"id": r.record_id, "amount": _money(r.amount),
                     "status": labels.RECORD_STATUS_NAMES.get(r.status, r.status), "at": _at(r.created_at)}
                    for r in records if r.kind == kind]

        return {
            "order_masked": pii.mask_order(order.order_id),
            "order_type": labels.ORDER_TYPE_NAMES.get(order.order_type, order.order_type),
            "status": labels.status_names().get(order.status, order.status),
            "phone_masked": pii.mask_value("phone_number", order.phone),
            "amount": _money(order.amount),
            "created_at": _at(order.created_at),
            "details": rows,
            "refunds": of_kind("refund"),
            "claims": of_kind("claim"),
            "payments": [{"amount": _money(p.amount), "status": p.status, "channel": p.channel, "at": _at(p.paid_at)}
                         for p in payments],
        }
