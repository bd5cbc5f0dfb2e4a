"""A durable local outbox for escalations that could not reach the bridge.

When the bridge or Redis is down, ``action_handoff`` writes the escalation
here (SQLite under KEFU_DATA_DIR) instead of losing it. It is delivered
later, in order, by whoever gets there first: the next action call, the
action server's background retry, or the bridge on start-up and every few
seconds. Deliveries are idempotent: each escalation carries an
``escalation_id`` the queue remembers, so a row sent twice makes one ticket.
"""
from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Tuple

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS escalations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    escalation_id TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    created REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT ''
)
"""


def default_path() -> Path:
    root = Path(__file__).resolve().parent.parent
    return Path(os.environ.get("KEFU_DATA_DIR") or root / "var").resolve() / "handoff_outbox.sqlite3"


class Outbox:
    """Escalations waiting to be delivered; survives process restarts."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute(_SCHEMA)
        return conn

    def add(self, payload: Dict[str, Any]) -> None:
        """Store one escalation (must carry ``escalation_id``); durable on return."""
        with closing(self._connect()) as conn:
            conn.execute(
                "INSERT OR IGNORE INTO escalations (escalation_id, payload, created) VALUES (?, ?, ?)",
                (str(payload["escalation_id"]), json.dumps(payload, ensure_ascii=False), time.time()),
            )

    def pending(self) -> List[Tuple[int, Dict[str, Any]]]:
        if not self.path.exists():
            return []
        with closing(self._connect()) as conn:
            rows = conn.execute("SELECT id, payload FROM escalations ORDER BY id").fetchall()
        return [(int(row_id), json.loads(payload)) for row_id, payload in rows]

    def remove(self, row_id: int) -> None:
        with closing(self._connect()) as conn:
            conn.execute("DELETE FROM escalations WHERE id = ?", (row_id,))

    def failed(self, row_id: int, error: str) -> None:
        with closing(self._connect()) as conn:
            conn.execute(
                "UPDATE escalations SET attempts = attempts + 1, last_error = ? WHERE id = ?", (error[:500], row_id)
            )

    async def deliver(self, send: Callable[[Dict[str, Any]], Awaitable[Any]]) -> int:
        """Send pending escalations oldest first; stop at the first failure.

        Returns how many were delivered.
        """
        delivered = 0
        for row_id, payload in self.pending():
            try:
                await send(payload)
            except Exception as exc:
                self.failed(row_id, f"{exc.__class__.__name__}: {exc}")
                logger.info("outbox delivery postponed: %s", exc)
                break
            self.remove(row_id)
            delivered += 1
        return delivered
