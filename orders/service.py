"""The order platform behind a small interface.

Actions talk only to :class:`OrderService`. :class:`SqliteOrderService` is the
embedded default (demo data from ``scripts/seed_orders.py``); a client of the
real platform API can replace it by implementing the same methods and being
returned from :func:`get_order_service`.

Every change writes a row to ``audit`` (who/what/when, masked phone only).
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Protocol, runtime_checkable

from core.paths import ROOT
from orders.validation import owner_answer_matches


def default_db_path(data_dir: Optional[Path] = None) -> Path:
    """KEFU_ORDERS_DB, else ``data_dir``/orders.sqlite3 (the caller's data dir, e.g. the bridge's
    settings), else $KEFU_DATA_DIR/orders.sqlite3, else var/orders.sqlite3."""
    explicit = os.environ.get("KEFU_ORDERS_DB")
    if explicit:
        return Path(explicit)
    if data_dir is not None:
        return Path(data_dir) / "orders.sqlite3"
    env_dir = os.environ.get("KEFU_DATA_DIR")
    return Path(env_dir) / "orders.sqlite3" if env_dir else ROOT / "var" / "orders.sqlite3"


@dataclass
class Order:
    order_id: str
    order_type: str  # ride | food | parcel
    phone: str
    status: str
    created_at: datetime
    amount: float
    details: Dict[str, Any] = field(default_factory=dict)
    events: List[Dict[str, Any]] = field(default_factory=list)  # parcel tracking, oldest first

    def time(self, key: str) -> Optional[datetime]:
        value = self.details.get(key)
        return datetime.fromisoformat(value) if value else None


@dataclass
class Payment:
    payment_id: str
    order_id: str
    amount: float
    status: str  # success | failed | refunded
    channel: str
    paid_at: datetime


@dataclass
class Record:
    """Anything the service records for a customer: refund, claim, ticket…"""

    record_id: str
    kind: str
    order_id: str
    amount: float = 0.0
    status: str = "created"
    data: Dict[str, Any] = field(default_factory=dict)
    created_at: Optional[datetime] = None


@runtime_checkable
class OrderService(Protocol):
    def now(self) -> datetime: ...
    def find_order(self, order_id: str) -> Optional[Order]: ...
    def orders_for_phone(self, phone: str, limit: int = 5) -> List[Order]: ...
    def payments_for_order(self, order_id: str) -> List[Payment]: ...
    def refunds_for_order(self, order_id: str) -> List[Record]: ...
    def create_refund(self, order_id: str, amount: float, reason: str) -> Record: ...
    def refund_payment(self, payment_id: str, reason: str) -> Record: ...
    def issue_coupon(self, order_id: str, amount: float, reason: str) -> Record: ...
    def record_claim(self, order_id: str, items: List[str], description: str, amount: float) -> Record: ...
    def record_ticket(self, order_id: str, category: str, summary: str, due: Dict[str, datetime]) -> Record: ...
    def record_invoice_request(self, order_id: str, email: str, amount: float) -> Record: ...
    def cancel_order(self, order_id: str, fee: float, reason: str) -> Order: ...
    def reassign(self, order_id: str) -> Order: ...
    def change_order_info(self, order_id: str, request: str) -> Record: ...
    def verify_owner(self, order_id: str, kind: str, answer: str) -> bool: ...


SCHEMA = """
CREATE TABLE IF NOT EXISTS customers (
    phone TEXT PRIMARY KEY,
    name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    order_id TEXT PRIMARY KEY,
    order_type TEXT NOT NULL CHECK (order_type IN ('ride', 'food', 'parcel')),
    phone TEXT NOT NULL REFERENCES customers(phone),
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    amount REAL NOT NULL,
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS orders_by_phone ON orders(phone, created_at);
CREATE TABLE IF NOT EXISTS tracking_events (
    order_id TEXT NOT NULL REFERENCES orders(order_id),
    at TEXT NOT NULL,
    place TEXT NOT NULL,
    description TEXT NOT NULL,
    PRIMARY KEY (order_id, at)
);
CREATE TABLE IF NOT EXISTS payments (
    payment_id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders(order_id),
    amount REAL NOT NULL,
    status TEXT NOT NULL,
    channel TEXT NOT NULL,
    paid_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
    record_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    order_id TEXT NOT NULL,
    amount REAL NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_by_order ON records(order_id, kind);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    order_id TEXT,
    detail TEXT NOT NULL DEFAULT '{}'
);
"""

_PREFIX = {
    "refund": "RF",
    "coupon": "CP",
    "claim": "CL",
    "ticket": "TK",
    "invoice": "IV",
    "change": "CH",
}


class OrderNotFound(LookupError):
    pass


class SqliteOrderService:
    """The embedded order platform (one SQLite file, safe across threads).

    ``read_only=True`` is the view of a process that must never change an
    order (the handoff bridge's customer panel): the file is opened with
    SQLite's ``mode=ro``, so every write fails in SQLite itself, nothing is
    created, and a missing file is an error instead of a new empty database.
    Reads only: the changes, and ``verify_owner`` (it audits), raise there.
    """

    def __init__(self, path: Optional[Path] = None, clock: Callable[[], datetime] = datetime.now,
                 read_only: bool = False) -> None:
        self.path = Path(path) if path else default_db_path()
        self._clock = clock
        self._lock = threading.Lock()
        self.read_only = read_only
        if read_only:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(SCHEMA)

    # -- plumbing ---------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        if self.read_only:
            db = sqlite3.connect(self.path.resolve().as_uri() + "?mode=ro", uri=True, timeout=5)
        else:
            db = sqlite3.connect(self.path, timeout=10)
        db.row_factory = sqlite3.Row
        return db

    def now(self) -> datetime:
        return self._clock().replace(microsecond=0)

    def _audit(self, db: sqlite3.Connection, action: str, order_id: Optional[str], **detail: Any) -> None:
        db.execute(
            "INSERT INTO audit (at, action, order_id, detail) VALUES (?, ?, ?, ?)",
            (self.now().isoformat(), action, order_id, json.dumps(detail, ensure_ascii=False)),
        )

    def _order(self, db: sqlite3.Connection, row: sqlite3.Row) -> Order:
        events = [
            dict(r)
            for r in db.execute(
                "SELECT at, place, description FROM tracking_events WHERE order_id = ? ORDER BY at",
                (row["order_id"],),
            )
        ]
        return Order(
            order_id=row["order_id"],
            order_type=row["order_type"],
            phone=row["phone"],
            status=row["status"],
            created_at=datetime.fromisoformat(row["created_at"]),
            amount=row["amount"],
            details=json.loads(row["details"]),
            events=events,
        )

    def _record(self, kind: str, order_id: str, amount: float = 0.0, status: str = "created", **data: Any) -> Record:
        record = Record(
            record_id=f"{_PREFIX[kind]}{self.now():%Y%m%d}{uuid.uuid4().hex[:6].upper()}",
            kind=kind,
            order_id=order_id,
            amount=round(float(amount), 2),
            status=status,
            data=data,
            created_at=self.now(),
        )
        with self._lock, self._connect() as db:
            db.execute(
                "INSERT INTO records (record_id, kind, order_id, amount, status, data, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    record.record_id,
                    kind,
                    order_id,
                    record.amount,
                    status,
                    json.dumps(data, ensure_ascii=False, default=str),
                    record.created_at.isoformat(),
                ),
            )
            self._audit(db, f"create_{kind}", order_id, record_id=record.record_id, amount=record.amount)
        return record

    # -- reads --------------------------------------------------------------
    def find_order(self, order_id: str) -> Optional[Order]:
        with self._connect() as db:
            row = db.execute("SELECT * FROM orders WHERE order_id = ?", ((order_id or "").upper(),)).fetchone()
            return self._order(db, row) if row else None

    def orders_for_phone(self, phone: str, limit: int = 5) -> List[Order]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT * FROM orders WHERE phone = ? ORDER BY created_at DESC LIMIT ?", (phone, limit)
            ).fetchall()
            return [self._order(db, row) for row in rows]

    def verify_owner(self, order_id: str, kind: str, answer: str) -> bool:
        """The second factor (actions/second_factor.py): is ``answer`` what only the
        order's owner knows? A real platform replaces this (an SMS code, its own
        account check); every attempt is audited, the answer itself never."""
        with self._lock, self._connect() as db:
            row = db.execute(
                "SELECT o.phone, c.name FROM orders o JOIN customers c ON c.phone = o.phone WHERE o.order_id = ?",
                ((order_id or "").upper(),),
            ).fetchone()
            ok = bool(row) and owner_answer_matches(kind, answer, row["phone"], row["name"])
            self._audit(db, "verify_owner", order_id, kind=kind, ok=ok)
        return ok

    def payments_for_order(self, order_id: str) -> List[Payment]:
        with self._connect() as db:
            rows = db.execute("SELECT * FROM payments WHERE order_id = ? ORDER BY paid_at", (order_id,)).fetchall()
        return [
            Payment(r["payment_id"], r["order_id"], r["amount"], r["status"], r["channel"], datetime.fromisoformat(r["paid_at"]))
            for r in rows
        ]

    def records_for_order(self, order_id: str, kind: Optional[str] = None) -> List[Record]:
        query = "SELECT * FROM records WHERE order_id = ?" + (" AND kind = ?" if kind else "") + " ORDER BY created_at"
        params = (order_id, kind) if kind else (order_id,)
        with self._connect() as db:
            rows = db.execute(query, params).fetchall()
        return [
            Record(r["record_id"], r["kind"], r["order_id"], r["amount"], r["status"], json.loads(r["data"]),
                   datetime.fromisoformat(r["created_at"]))
            for r in rows
        ]

    def refunds_for_order(self, order_id: str) -> List[Record]:
        return self.records_for_order(order_id, "refund")

    # -- writes -------------------------------------------------------------
    def create_refund(self, order_id: str, amount: float, reason: str) -> Record:
        return self._record("refund", order_id, amount, "processing", reason=reason)

    def refund_payment(self, payment_id: str, reason: str) -> Record:
        with self._lock, self._connect() as db:
            row = db.execute("SELECT * FROM payments WHERE payment_id = ?", (payment_id,)).fetchone()
            if row is None:
                raise OrderNotFound(payment_id)
            db.execute("UPDATE payments SET status = 'refunded' WHERE payment_id = ?", (payment_id,))
            self._audit(db, "refund_payment", row["order_id"], payment_id=payment_id, amount=row["amount"])
        return self._record("refund", row["order_id"], row["amount"], "processing", reason=reason, payment_id=payment_id)

    def issue_coupon(self, order_id: str, amount: float, reason: str) -> Record:
        return self._record("coupon", order_id, amount, "issued", reason=reason)

    def record_claim(self, order_id: str, items: List[str], description: str, amount: float) -> Record:
        return self._record("claim", order_id, amount, "open", items=items, description=description)

    def record_ticket(self, order_id: str, category: str, summary: str, due: Dict[str, datetime]) -> Record:
        return self._record(
            "ticket", order_id, 0, "open", category=category, summary=summary,
            due={k: v.isoformat() for k, v in due.items()},
        )

    def record_invoice_request(self, order_id: str, email: str, amount: float) -> Record:
        return self._record("invoice", order_id, amount, "queued", email=email)

    def change_order_info(self, order_id: str, request: str) -> Record:
        return self._record("change", order_id, 0, "submitted", request=request)

    def _update_order(self, order_id: str, status: Optional[str], details: Dict[str, Any], action: str, **audit: Any) -> Order:
        with self._lock, self._connect() as db:
            row = db.execute("SELECT * FROM orders WHERE order_id = ?", (order_id,)).fetchone()
            if row is None:
                raise OrderNotFound(order_id)
            merged = {**json.loads(row["details"]), **details}
            db.execute(
                "UPDATE orders SET status = ?, details = ? WHERE order_id = ?",
                (status or row["status"], json.dumps(merged, ensure_ascii=False), order_id),
            )
            self._audit(db, action, order_id, **audit)
        order = self.find_order(order_id)
        assert order is not None
        return order

    def cancel_order(self, order_id: str, fee: float, reason: str) -> Order:
        return self._update_order(
            order_id, "cancelled", {"cancelled_at": self.now().isoformat(), "cancel_fee": fee, "cancel_reason": reason},
            "cancel_order", fee=fee, reason=reason,
        )

    def reassign(self, order_id: str) -> Order:
        order = self.find_order(order_id)
        if order is None:
            raise OrderNotFound(order_id)
        standby = order.details.get("standby") or {}
        courier_key = "driver" if order.order_type == "ride" else "rider"
        changes: Dict[str, Any] = {"reassigned_at": self.now().isoformat(), "standby": None}
        if standby:
            changes[courier_key] = standby.get("name", order.details.get(courier_key))
            if "plate" in standby:
                changes["plate"] = standby["plate"]
            if "car" in standby:
                changes["car"] = standby["car"]
            changes["eta_minutes"] = standby.get("eta_minutes", order.details.get("eta_minutes"))
        return self._update_order(order_id, None, changes, "reassign", courier=changes.get(courier_key))


_service: Optional[OrderService] = None


def get_order_service() -> OrderService:
    """The process-wide service (SQLite at KEFU_ORDERS_DB by default)."""
    global _service
    if _service is None:
        _service = SqliteOrderService()
    return _service


def set_order_service(service: Optional[OrderService]) -> None:
    """Swap the implementation (tests, or a real platform client)."""
    global _service
    _service = service
