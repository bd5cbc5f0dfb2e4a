"""A read-only view of the order platform for the agent console (customer panel, script variables).

The bridge must not import the action server (actions/), so this reads the
orders DB itself: the same SQLite file the action server writes
(``KEFU_ORDERS_DB``, else ``$KEFU_DATA_DIR/orders.sqlite3``), opened
read-only. Everything it returns is masked with the one masker (core.pii):
the phone as 138****5678, the order number by its last four, addresses
down to the district; rider and driver are shown by their work name
(王师傅), their phones never.
"""
from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
from pathlib import Path
from typing import Any, Dict, List, Optional

from core import pii
from handoff import labels

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


def default_path(data_dir: Path) -> Path:
    explicit = os.environ.get("KEFU_ORDERS_DB")
    return Path(explicit) if explicit else data_dir / "orders.sqlite3"


def mask_order(order_id: str) -> str:
    """2023112215300012345 -> …2345, as the bot's replies write it."""
    return "…" + order_id[-4:] if order_id else "…"


class OrdersReader:
    """Reads one order with its refunds, claims and payments; None when unknown or no DB."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _connect(self) -> Optional[sqlite3.Connection]:
        if not self.path.exists():
            return None
        db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=5)
        db.row_factory = sqlite3.Row
        return db

    def _row(self, order_ref: str) -> Optional[Dict[str, Any]]:
        if not order_ref:
            return None
        try:
            db = self._connect()
            if db is None:
                return None
            with db:
                row = db.execute("SELECT * FROM orders WHERE order_id = ?", (order_ref.upper(),)).fetchone()
                if row is None:
                    return None
                order = dict(row)
                order["details"] = json.loads(order.get("details") or "{}")
                order["records"] = [dict(r) for r in db.execute(
                    "SELECT record_id, kind, amount, status, created_at FROM records WHERE order_id = ? "
                    "ORDER BY created_at", (order["order_id"],))]
                order["payments"] = [dict(r) for r in db.execute(
                    "SELECT amount, status, channel, paid_at FROM payments WHERE order_id = ? ORDER BY paid_at",
                    (order["order_id"],))]
            db.close()
            return order
        except (sqlite3.Error, ValueError) as exc:  # the panel is optional; the chat goes on
            logger.warning("order lookup failed: %s", exc)
            return None

    def variables(self, order_ref: str) -> Dict[str, str]:
        """The script variables every order response may use (masked), {} when unknown."""
        order = self._row(order_ref)
        if order is None:
            return {}
        return {
            "order_masked": mask_order(order["order_id"]),
            "order_type_name": labels.ORDER_TYPE_NAMES.get(order["order_type"], ""),
            "phone_masked": pii.mask_value("phone_number", order["phone"]),
            "amount": f"{float(order['amount']):.2f}",
            "state_name": labels.status_names().get(order["status"], order["status"]),
        }

    def panel(self, order_ref: str) -> Optional[Dict[str, Any]]:
        """The customer panel's order: status, ETA, rider/driver, amount, refunds and claims (masked)."""
        order = self._row(order_ref)
        if order is None:
            return None
        details = order["details"]
        rows = [{"label": label, "value": shown(details[key])}
                for key, label in DETAIL_LABELS.items() if details.get(key) not in (None, "")]
        if details.get("address"):
            rows.append({"label": "地址", "value": pii.mask_text(str(details["address"]))})

        def records(kind: str) -> List[Dict[str, Any]]:
            return [{"id": r["record_id"], "amount": f"{float(r['amount']):.2f}",
                     "status": labels.RECORD_STATUS_NAMES.get(r["status"], r["status"]), "at": r["created_at"]}
                    for r in order["records"] if r["kind"] == kind]

        return {
            "order_masked": mask_order(order["order_id"]),
            "order_type": labels.ORDER_TYPE_NAMES.get(order["order_type"], order["order_type"]),
            "status": labels.status_names().get(order["status"], order["status"]),
            "phone_masked": pii.mask_value("phone_number", order["phone"]),
            "amount": f"{float(order['amount']):.2f}",
            "created_at": order["created_at"],
            "details": rows,
            "refunds": records("refund"),
            "claims": records("claim"),
            "payments": [{"amount": f"{float(p['amount']):.2f}", "status": p["status"], "channel": p["channel"],
                          "at": p["paid_at"]} for p in order["payments"]],
        }
