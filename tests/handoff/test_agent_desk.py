"""Server side of the console's shift (issue 15, issue 13): leases renewed over HTTP, claims
that never reached the agent back at their old place, idempotent sends, forbidden phrases
refused, hand-back only to real flows, eligibility, labels, the customer panel and notes."""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from handoff import labels
from handoff.orders import OrdersReader
from handoff.queue import HandoffQueue, NewTicket
from orders.service import SCHEMA as ORDERS_SCHEMA
from tests.handoff.conftest import Bridge, add_agents, make_settings, start_bridge


def claim(bridge: Bridge, tid: str, agent: str = "gen1") -> Any:
    return bridge.client.post(f"/api/tickets/{tid}/claim", headers=bridge.agent(agent))


async def test_a_claim_never_confirmed_goes_back_to_its_old_place(redis_url: str) -> None:
    """The WebSocket heartbeat (renew_all) renews only claims the console confirmed."""
    clock = [1_000_000]
    q = HandoffQueue.from_url(redis_url, lease_seconds=30, max_chats=3, clock=lambda: clock[0])
    try:
        first, _ = await q.escalate(NewTicket(sender="s-first", channel="rest", reason="request_human", priority="P2", summary=""))
        clock[0] += 10
        later, _ = await q.escalate(NewTicket(sender="s-later", channel="rest", reason="request_human", priority="P2", summary=""))
        await q.claim(first, "gen1", "小李", ["general"])        # the reply is lost: never confirmed
        clock[0] += 10
        confirmed, _ = await q.escalate(NewTicket(sender="s-ok", channel="rest", reason="request_human", priority="P2", summary=""))
        await q.claim(confirmed, "gen1", "小李", ["general"])
        await q.renew(confirmed, "gen1")                          # the console showed it: confirmed
        for _ in range(3):                                        # the connected console's heartbeats
            clock[0] += 20_000
            assert await q.renew_all("gen1") == [confirmed]
        assert await q.reap() == [first]
        assert await q.position(first) == 1 and await q.position(later) == 2  # its old place, ahead of later
        assert (await q.ticket(confirmed))["state"] == "active"
    finally:
        await q.close()


def test_renew_over_http_keeps_held_chats_and_names_lost_ones(bridge: Bridge) -> None:
    c = bridge.client
    held = bridge.escalate("rest-held")["ticket_id"]
    gone = bridge.escalate("rest-gone")["ticket_id"]
    assert claim(bridge, held).status_code == 200 and claim(bridge, gone).status_code == 200
    c.post(f"/api/tickets/{gone}/transfer", json={"skill": "safety"}, headers=bridge.agent("gen1"))
    resp = c.post("/api/chats/renew", json={"ticket_ids": [held, gone]}, headers=bridge.agent("gen1"))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["held"] == [held] and [x["id"] for x in body["lost"]] == [gone]
    assert body["lost"][0]["error"] == "not_owner" and body["lease_seconds"] == 30
    assert c.post("/api/chats/renew", json={"ticket_ids": ["nope"]}, headers=bridge.agent("gen1")).status_code == 400
    assert c.post("/api/chats/renew", json={"ticket_ids": [held]}).status_code == 401


def test_agent_message_with_the_same_key_is_sent_once(bridge: Bridge) -> None:
    esc = bridge.escalate("rest-idem")
    tid = esc["ticket_id"]
    claim(bridge, tid)
    body = {"text": "您好,我来为您处理", "client_id": "a1b2c3d4e5f60718"}
    first = bridge.client.post(f"/api/tickets/{tid}/messages", json=body, headers=bridge.agent("gen1"))
    again = bridge.client.post(f"/api/tickets/{tid}/messages", json=body, headers=bridge.agent("gen1"))
    assert first.status_code == again.status_code == 201
    assert again.json()["duplicate"] is True and again.json()["id"] == first.json()["id"]
    polled = bridge.client.get("/customer/rest-idem/messages", params={"token": esc["customer_token"]}).json()["messages"]
    assert [m["text"] for m in polled].count("您好,我来为您处理") == 1
    other = bridge.client.post(f"/api/tickets/{tid}/messages", json={"text": "您好,我来为您处理", "client_id": "zzzzzzzz9"},
                               headers=bridge.agent("gen1"))
    assert other.json()["duplicate"] is False  # a new key is a new message
    bad = bridge.client.post(f"/api/tickets/{tid}/messages", json={"text": "x", "client_id": "a/b"}, headers=bridge.agent("gen1"))
    assert bad.status_code == 400


def test_forbidden_phrase_is_refused_without_override(bridge: Bridge) -> None:
    tid = bridge.escalate("rest-forbid")["ticket_id"]
    claim(bridge, tid)
    resp = bridge.client.post(f"/api/tickets/{tid}/messages", json={"text": "你等着吧,这个我也不知道"}, headers=bridge.agent("gen1"))
    assert resp.status_code == 422 and resp.json()["error"] == "forbidden_phrase"
    assert "不知道" in resp.json()["detail"] and "我查一下再给您答复" in resp.json()["detail"]
    override = bridge.client.post(f"/api/tickets/{tid}/messages", json={"text": "不知道", "override": True},
                                  headers=bridge.agent("gen1"))
    assert override.status_code == 400  # no override field: the service guide allows none
    transcript = bridge.client.get(f"/api/tickets/{tid}", headers=bridge.agent("gen1")).json()["transcript"]
    assert not [m for m in transcript if m["role"] == "agent"]


def test_handback_only_to_a_flow_the_bot_has(bridge: Bridge) -> None:
    tid = bridge.escalate("rest-flow")["ticket_id"]
    claim(bridge, tid)
    bad = bridge.client.post(f"/api/tickets/{tid}/handback", json={"flow": "order_status"}, headers=bridge.agent("gen1"))
    assert bad.status_code == 400 and "status" in bad.json()["detail"]
    assert bridge.client.get(f"/api/tickets/{tid}", headers=bridge.agent("gen1")).json()["state"] == "active"
    ok = bridge.client.post(f"/api/tickets/{tid}/handback", json={"flow": "status"}, headers=bridge.agent("gen1"))
    assert ok.status_code == 200
    assert bridge.rasa.triggered[-1]["entities"] == {"flow": "status"}


def test_labels_name_every_flow_of_the_domain(bridge: Bridge) -> None:
    domain = yaml.safe_load((Path(labels.DATA).parent / "domain" / "common.yml").read_text(encoding="utf-8"))
    values = set(domain["slots"]["current_flow"]["values"]) - {"open"}
    got = bridge.client.get("/api/labels", headers=bridge.agent("gen1")).json()
    assert set(got["flows"]) == values
    assert got["intents"]["report_safety"] != got["reasons"]["safety"]  # no "安全问题 · 安全问题"
    assert "Failed" not in got["messages"]["network"]
    assert bridge.client.get("/api/labels").status_code == 401


def test_queue_marks_what_this_agent_cannot_claim(bridge: Bridge) -> None:
    bridge.client.get("/api/me", headers=bridge.agent("safe1"))  # a safety agent is online
    tid = bridge.escalate("rest-p0", reason="safety", priority="P0")["ticket_id"]
    queue = bridge.client.get("/api/queue", headers=bridge.agent("gen1")).json()["tickets"]
    card = next(t for t in queue if t["id"] == tid)
    assert card["eligible"] is False and card["required_skill"] == "safety"
    assert claim(bridge, tid).json()["error"] == "not_eligible"
    mine = bridge.client.get("/api/queue", headers=bridge.agent("safe1")).json()["tickets"]
    assert next(t for t in mine if t["id"] == tid)["eligible"] is True


@pytest.fixture()
def bridge_with_orders(redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bridge]:
    db = sqlite3.connect(tmp_path / "orders.sqlite3")
    db.executescript(ORDERS_SCHEMA)  # the action server's tables (orders/service.py)
    db.execute("INSERT INTO orders VALUES ('2023112215300012345', 'food', '13812345678', 'delivering', '2026-12-01T10:00:00',"
               " 38.5, '{\"rider\": \"王师傅\", \"rider_phone\": \"13600001234\", \"eta_minutes\": 10}')")
    db.execute("INSERT INTO records VALUES ('RF1', 'refund', '2023112215300012345', 12, 'created', '{}', '2026-12-01T10:30:00')")
    db.execute("INSERT INTO records VALUES ('CL1', 'claim', '2023112215300012345', 20, 'created', '{}', '2026-12-01T10:40:00')")
    db.commit()
    db.close()
    monkeypatch.delenv("KEFU_ORDERS_DB", raising=False)
    settings = make_settings(redis_url, tmp_path)
    yield from start_bridge(settings, add_agents(settings.agents_file))


def test_customer_panel_history_and_notes_are_masked(bridge_with_orders: Bridge) -> None:
    bridge = bridge_with_orders
    c = bridge.client
    first = bridge.escalate("rest-panel", order_id="2023112215300012345")["ticket_id"]
    claim(bridge, first)
    note = c.post(f"/api/tickets/{first}/notes", json={"text": "客户电话 13912345678 打不通"}, headers=bridge.agent("gen1"))
    assert note.status_code == 201 and "139****5678" in note.json()["text"]
    assert c.post(f"/api/tickets/{first}/notes", json={"text": "x"}, headers=bridge.agent("gen2")).status_code == 403
    c.post(f"/api/tickets/{first}/resolve", headers=bridge.agent("gen1"))
    second = bridge.escalate("rest-panel", order_id="2023112215300012345")["ticket_id"]
    claim(bridge, second)
    ctx = c.get(f"/api/tickets/{second}/context", headers=bridge.agent("gen1")).json()
    order = ctx["order"]
    assert order["status"] == "配送中" and order["phone_masked"] == "138****5678" and order["amount"] == "38.50"
    assert {"label": "骑手", "value": "王师傅"} in order["details"]
    assert [r["id"] for r in order["refunds"]] == ["RF1"] and [r["id"] for r in order["claims"]] == ["CL1"]
    assert "13812345678" not in str(ctx) and "13600001234" not in str(ctx) and "13912345678" not in str(ctx)
    assert [h["id"] for h in ctx["history"]] == [first] and ctx["history"][0]["outcome"] == "resolved"
    assert ctx["history"][0]["notes"] == 1 and ctx["notes"] == []
    view = c.get(f"/api/tickets/{second}", headers=bridge.agent("gen1")).json()
    assert view["variables"]["order_masked"] == "…2345" and view["variables"]["state_name"] == "配送中"
    assert c.get(f"/api/tickets/{second}/context", headers=bridge.agent("gen2")).status_code == 403


def test_the_bridge_reads_orders_and_never_writes_them(bridge_with_orders: Bridge, tmp_path: Path) -> None:
    db = tmp_path / "orders.sqlite3"
    before = db.read_bytes()
    reader = OrdersReader(db)
    assert reader.panel("2023112215300012345")["order_masked"] == "…2345"
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        reader.orders.create_refund("2023112215300012345", 1.0, "不该写入")
    assert db.read_bytes() == before
    missing = tmp_path / "none" / "orders.sqlite3"
    assert OrdersReader(missing).panel("2023112215300012345") is None and not missing.parent.exists()


def test_the_bridges_trigger_intent_is_no_customer_turn(bridge: Bridge) -> None:
    tid = bridge.escalate("rest-trigger", transcript=[
        {"role": "user", "text": "EXTERNAL: EXTERNAL_handoff_resolved", "ts": 1},
        {"role": "user", "text": "还是没到,转人工", "ts": 2}])["ticket_id"]
    claim(bridge, tid)
    texts = [m["text"] for m in bridge.client.get(f"/api/tickets/{tid}", headers=bridge.agent("gen1")).json()["transcript"]]
    assert "还是没到,转人工" in texts and not any("EXTERNAL" in t for t in texts)
