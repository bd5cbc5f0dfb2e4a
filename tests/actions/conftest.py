"""Fixtures for action tests: a real SQLite database seeded by the seed script."""
from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from orders.service import SqliteOrderService, set_order_service

ROOT = Path(__file__).resolve().parents[2]


def _load_seed_module():
    spec = importlib.util.spec_from_file_location("seed_orders", ROOT / "scripts" / "seed_orders.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


seed_orders = _load_seed_module()


def domain_slots() -> Dict[str, Any]:
    slots: Dict[str, Any] = {"requested_slot": None}
    for path in sorted((ROOT / "domain").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for name, spec in (data.get("slots") or {}).items():
            slots[name] = spec.get("initial_value")
    return slots


@pytest.fixture()
def db_path(tmp_path: Path) -> Path:
    return seed_orders.seed(tmp_path / "orders.sqlite3")


@pytest.fixture()
def svc(db_path: Path) -> Iterator[SqliteOrderService]:
    service = SqliteOrderService(db_path)
    set_order_service(service)
    yield service
    set_order_service(None)


def make_tracker(
    text: str = "",
    intent: str = "inform",
    entities: Optional[List[Dict[str, Any]]] = None,
    slots: Optional[Dict[str, Any]] = None,
    history: Optional[List[Dict[str, Any]]] = None,
    sentiment: str = "calm",
    active_loop: Optional[str] = None,
) -> Tracker:
    parse = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.99},
        "entities": entities or [],
        "sentiment": {"label": sentiment, "score": 0.9 if sentiment != "calm" else 0.1},
    }
    all_slots = domain_slots()
    all_slots.update(slots or {})
    events = list(history or []) + [{"event": "user", "text": text, "parse_data": parse}]
    return Tracker(
        "test-user", all_slots, parse, events, False, None,
        {"name": active_loop} if active_loop else {}, "action_listen",
    )


def user_event(text: str, intent: str = "inform", sentiment: str = "calm") -> Dict[str, Any]:
    return {
        "event": "user", "text": text,
        "parse_data": {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": [],
                       "sentiment": {"label": sentiment, "score": 0.9}},
    }


def verified(order_id: str, **extra: Any) -> Dict[str, Any]:
    """Slots of a customer verified for ``order_id`` who also answered the second factor
    (tests/actions/test_second_factor.py covers the ones who have not)."""
    return {"order_id": order_id, "verified": True, "factor_ok": order_id, **extra}


def run(action, tracker: Tracker):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    return [m.get("response") for m in dispatcher.messages], events, dispatcher


def slot_events(events) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def followup(events) -> Optional[str]:
    return next((e["name"] for e in events if e.get("event") == "followup"), None)
