"""GET /api/supervisor/stats: the figures match what happened (real Redis,
trackers serialised by Rasa's own tracker store code)."""
from __future__ import annotations

import time
from typing import Any, List

import redis

from handoff.agents import AgentDirectory
from handoff.stats import TRACKER_PREFIX
from tests.handoff.conftest import Bridge


def store_tracker(redis_url: str, sender: str, intents: List[str], rating: Any = None) -> None:
    """A conversation as Rasa's RedisTrackerStore keeps it (key prefix "kefu")."""
    from rasa.core.tracker_store import RedisTrackerStore
    from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    now = time.time()
    events: List[Any] = []
    for intent in intents:
        events.append(UserUttered("…", intent={"name": intent, "confidence": 1.0}, timestamp=now))
        events.append(ActionExecuted("action_listen", timestamp=now))
    if rating is not None:
        events.append(UserUttered("5分", intent={"name": "rate", "confidence": 1.0}, timestamp=now))
        events.append(SlotSet("rating", str(rating), timestamp=now))  # from the entity: not counted
        events.append(ActionExecuted("action_rate", timestamp=now))
        events.append(SlotSet("rating", str(rating), timestamp=now))
    tracker = DialogueStateTracker.from_events(sender, events)
    client = redis.Redis.from_url(redis_url)
    client.set(TRACKER_PREFIX + sender, RedisTrackerStore.serialise_tracker(tracker))
    client.close()


def supervisor(bridge: Bridge) -> dict:
    token = AgentDirectory(bridge.settings.agents_file).add("boss", "老陈", ["supervisor"])
    return {"Authorization": f"Bearer {token}"}


def test_one_resolved_handoff_rated_5(bridge: Bridge, redis_url: str) -> None:
    headers = supervisor(bridge)
    # a handoff: report_safety, claimed by its first agent, resolved, rated 5
    bridge.escalate("cust-a", reason="safety", intents=["report_safety"])
    tid = bridge.client.get("/api/queue", headers=bridge.agent("safe1")).json()["tickets"][0]["id"]
    assert bridge.client.post(f"/api/tickets/{tid}/claim", headers=bridge.agent("safe1")).status_code == 200
    assert bridge.client.post(f"/api/tickets/{tid}/resolve", headers=bridge.agent("safe1")).status_code == 200
    store_tracker(redis_url, "cust-a", ["report_safety"], rating=5)
    # one the bot closed alone, about an order; one still waiting for a person (P2)
    store_tracker(redis_url, "cust-b", ["greet", "query_order_status"])
    store_tracker(redis_url, "cust-c", ["query_order_status", "request_human"])
    bridge.escalate("cust-c", intents=["query_order_status", "request_human"])

    resp = bridge.client.get("/api/supervisor/stats", headers=headers)
    assert resp.status_code == 200, resp.text
    data = resp.json()
    live, today = data["live"], data["today"]
    assert live["queue"] == {"P0": 0, "P1": 0, "P2": 1} and live["queue_total"] == 1
    assert today["conversations"] == 3 and today["handoffs"] == 2
    assert today["handoffs_by_priority"] == {"P0": 1, "P1": 0, "P2": 1}
    sat = today["satisfaction"]
    assert sat["average"] == 5.0 and sat["count"] == 1 and sat["distribution"]["5"] == 1
    assert sat["with_agent_average"] == 5.0
    fcr = today["first_contact_resolution"]
    assert fcr["bot_closed"] == 1 and fcr["first_agent"] == 1 and fcr["closed_by_agent"] == 1
    assert fcr["rate"] == round(2 / 3, 4)
    assert today["average_handling_seconds"] is not None and today["average_handling_seconds"] >= 0
    rates = {row["intent"]: row for row in today["handoff_rate_by_intent"]}
    assert rates["report_safety"]["rate"] == 1.0 and rates["report_safety"]["label"] == "报告安全风险"
    assert rates["query_order_status"]["conversations"] == 2 and rates["query_order_status"]["rate"] == 0.5
    assert "greet" not in rates
    assert today["sla_breaches"] == 0


def test_transferred_ticket_is_not_first_agent_resolution(bridge: Bridge) -> None:
    headers = supervisor(bridge)
    bridge.escalate("cust-t")
    tid = bridge.client.get("/api/queue", headers=bridge.agent("gen1")).json()["tickets"][0]["id"]
    bridge.client.post(f"/api/tickets/{tid}/claim", headers=bridge.agent("gen1"))
    bridge.client.post(f"/api/tickets/{tid}/transfer", json={"agent_id": "gen2"}, headers=bridge.agent("gen1"))
    bridge.client.post(f"/api/tickets/{tid}/claim", headers=bridge.agent("gen2"))
    bridge.client.post(f"/api/tickets/{tid}/resolve", headers=bridge.agent("gen2"))
    fcr = bridge.client.get("/api/supervisor/stats", headers=headers).json()["today"]["first_contact_resolution"]
    assert fcr["closed_by_agent"] == 1 and fcr["first_agent"] == 0


def test_only_supervisors_and_bad_input_is_4xx_json(bridge: Bridge) -> None:
    headers = supervisor(bridge)
    assert bridge.client.get("/api/supervisor/stats").status_code == 401
    denied = bridge.client.get("/api/supervisor/stats", headers=bridge.agent("gen1"))
    assert denied.status_code == 403 and denied.json()["error"] == "forbidden"
    for query in ("date=yesterday", "date=2020-13-01", "date=2999-01-01", "date=" + "9" * 500, "foo=1", "date=2024-1-1"):
        resp = bridge.client.get(f"/api/supervisor/stats?{query}", headers=headers)
        assert resp.status_code == 400, (query, resp.text)
        assert resp.json()["error"] == "bad_request"
    assert bridge.client.post("/api/supervisor/stats", headers=headers).status_code == 405


def test_customer_typing_and_status_endpoints(bridge: Bridge) -> None:
    assert bridge.client.get("/customer/nobody/status").json() == {"state": "none", "position": None, "wait_minutes": None}
    bridge.escalate("cust-y")
    assert bridge.client.get("/customer/cust-y/status").json()["position"] == 1
    assert bridge.client.post("/customer/cust-y/typing", json={"typing": True}).json() == {"delivered": False}
    tid = bridge.client.get("/api/queue", headers=bridge.agent("gen1")).json()["tickets"][0]["id"]
    bridge.client.post(f"/api/tickets/{tid}/claim", headers=bridge.agent("gen1"))
    assert bridge.client.get("/customer/cust-y/status").json()["state"] == "active"
    assert bridge.client.post("/customer/cust-y/typing", json={"typing": True}).json() == {"delivered": True}
    assert bridge.client.post("/customer/cust-y/typing", json={"typing": True}).json() == {"delivered": False}  # throttled
    for body in ({"typing": "yes"}, {}, {"typing": True, "x": 1}, [1]):
        resp = bridge.client.post("/customer/cust-y/typing", json=body)
        assert resp.status_code == 400 and resp.json()["error"] == "bad_request"
    assert bridge.client.post("/customer/cust-y/typing", content=b"{not json").status_code == 400


def test_customer_presence_reaches_the_ticket(bridge: Bridge) -> None:
    assert bridge.client.post("/customer/nobody/presence", json={"online": True}).json() == {"recorded": False}
    bridge.escalate("cust-p")
    assert bridge.client.post("/customer/cust-p/presence", json={"online": True}).json() == {"recorded": True}
    tid = bridge.client.get("/api/queue", headers=bridge.agent("gen1")).json()["tickets"][0]["id"]
    claimed = bridge.client.post(f"/api/tickets/{tid}/claim", headers=bridge.agent("gen1")).json()
    assert claimed["customer_online"] is True
    bridge.client.post("/customer/cust-p/presence", content=b'{"online": false}')  # sendBeacon: text/plain
    view = bridge.client.get(f"/api/tickets/{tid}", headers=bridge.agent("gen1")).json()
    assert view["customer_online"] is False
    for body in ({"online": 1}, {}, {"online": True, "x": 1}):
        resp = bridge.client.post("/customer/cust-p/presence", json=body)
        assert resp.status_code == 400 and resp.json()["error"] == "bad_request"


def test_many_supervisor_pages_cost_one_scan_but_see_the_live_queue(bridge: Bridge, redis_url: str) -> None:
    """Pages poll every 5 s: the queue is always current, the day's scan is shared for 10 s."""
    headers = supervisor(bridge)
    store_tracker(redis_url, "cust-a", ["query_order_status"])
    first = bridge.client.get("/api/supervisor/stats", headers=headers).json()
    cache = bridge.client.app.state.day_figures
    scans = cache.scans
    bridge.escalate("cust-b", intents=["request_human"])
    for _ in range(5):
        later = bridge.client.get("/api/supervisor/stats", headers=headers).json()
    assert later["live"]["queue_total"] == first["live"]["queue_total"] + 1, "the live queue must never be stale"
    assert cache.scans == scans, "every poll rescanned every tracker"
    assert later["today"]["computed_at"] == first["today"]["computed_at"]
    cache.ttl_ms = 0  # the figures age out
    assert bridge.client.get("/api/supervisor/stats", headers=headers).json()["today"]["handoffs"] == 1
    assert cache.scans == scans + 1
