"""The bridge's HTTP API as agents, the bot side and REST customers use it."""
from __future__ import annotations

from typing import Any

from core import keys
from tests.handoff.conftest import Bridge

PHONE = "13812345678"


def test_full_handoff_is_relayed_and_logged_in_the_tracker(bridge: Bridge) -> None:
    c = bridge.client
    esc = bridge.escalate("rest-1", transcript=[{"role": "user", "text": "我要找人工", "ts": 1}])
    assert esc["position"] == 1 and esc["wait_minutes"] >= 1 and esc["customer_token"]
    tid = esc["ticket_id"]

    queue = c.get("/api/queue", headers=bridge.agent("gen1")).json()["tickets"]
    assert [t["id"] for t in queue] == [tid]
    assert queue[0]["summary"] == "客户要求转人工" and queue[0]["priority"] == "P2"

    claimed = c.post(f"/api/tickets/{tid}/claim", headers=bridge.agent("gen1")).json()
    assert claimed["owner"] == "gen1"
    assert [m["role"] for m in claimed["transcript"]] == ["user", "bot"]
    assert claimed["transcript"][0]["text"] == "我要找人工" and "小李" in claimed["transcript"][1]["text"]

    resp = c.post("/internal/customer-message", json={"sender": "rest-1", "text": "您好,在吗"}, headers=bridge.internal)
    assert resp.status_code == 200 and resp.json()["state"] == "active"
    sent = c.post(f"/api/tickets/{tid}/messages", json={"text": "您好,我是小李,请问有什么可以帮您?"}, headers=bridge.agent("gen1"))
    assert sent.status_code == 201

    token = esc["customer_token"]
    polled = c.get("/customer/rest-1/messages", params={"token": token}).json()["messages"]
    assert polled[0]["metadata"]["kind"] == "agent_joined" and "小李" in polled[0]["text"]
    assert polled[1] == {**polled[1], "text": "您好,我是小李,请问有什么可以帮您?", "metadata": {"from": "agent", "agent_name": "小李"}}
    later = c.get("/customer/rest-1/messages", params={"token": token, "after": polled[0]["id"]}).json()["messages"]
    assert [m["id"] for m in later] == [polled[1]["id"]]

    assert c.post(f"/api/tickets/{tid}/resolve", headers=bridge.agent("gen1")).status_code == 200
    events = bridge.rasa.events["rest-1"]
    assert [e["event"] for e in events] == ["bot", "bot", "resume", "action", "user", "bot"]
    assert events[1]["metadata"] == {"from": "agent", "agent_name": "小李"}
    assert bridge.rasa.triggered == [{"sender": "rest-1", "name": "EXTERNAL_handoff_resolved", "entities": {}}]
    rating = c.get("/customer/rest-1/messages", params={"token": token, "after": polled[1]["id"]}).json()["messages"]
    assert "打分" in rating[-1]["text"] and rating[-1]["quick_replies"][0]["payload"].startswith("/rate")
    assert c.get("/internal/conversations/rest-1", headers=bridge.internal).json()["state"] == "none"


def test_handback_triggers_the_flow(bridge: Bridge) -> None:
    tid = bridge.escalate("rest-2")["ticket_id"]
    bridge.client.post(f"/api/tickets/{tid}/claim", headers=bridge.agent("gen1"))
    resp = bridge.client.post(f"/api/tickets/{tid}/handback", json={"flow": "refund"}, headers=bridge.agent("gen1"))
    assert resp.status_code == 200
    assert bridge.rasa.triggered[-1] == {"sender": "rest-2", "name": "EXTERNAL_handoff_handback", "entities": {"flow": "refund"}}
    assert {"event": "resume"} in bridge.rasa.events["rest-2"]


def test_phone_number_is_masked_for_agents_and_reveal_is_audited(bridge: Bridge, redis_client: Any) -> None:
    c = bridge.client
    tid = bridge.escalate(
        "rest-3", summary=f"客户手机 {PHONE} 要求退款",
        transcript=[{"role": "user", "text": f"我的手机号是{PHONE}", "ts": 1}],
    )["ticket_id"]
    listed = c.get("/api/queue", headers=bridge.agent("gen1")).text
    assert PHONE not in listed and "138****5678" in listed
    ticket = c.post(f"/api/tickets/{tid}/claim", headers=bridge.agent("gen1")).json()
    assert PHONE not in str(ticket) and "138****5678" in ticket["transcript"][0]["text"]
    assert PHONE not in str(redis_client.hgetall(keys.ticket(tid)))

    message_id = ticket["transcript"][0]["id"]
    other = c.post(f"/api/tickets/{tid}/reveal", json={"message_id": message_id, "index": 0}, headers=bridge.agent("gen2"))
    assert other.status_code == 403
    shown = c.post(f"/api/tickets/{tid}/reveal", json={"message_id": message_id, "index": 0}, headers=bridge.agent("gen1"))
    assert shown.status_code == 200 and shown.json()["value"] == PHONE
    audit = [e for e in redis_client.xrange(keys.AUDIT) if e[1]["ticket_id"] == tid]
    reveals = [f for _, f in audit if f["action"] == "reveal"]
    assert len(reveals) == 1 and reveals[0]["by"] == "gen1" and PHONE not in str(audit)


def test_agent_websocket_reconnect_gets_everything_sent_meanwhile(bridge: Bridge) -> None:
    c = bridge.client
    tid = bridge.escalate("rest-4")["ticket_id"]
    c.post(f"/api/tickets/{tid}/claim", headers=bridge.agent("gen1"))
    token = bridge.tokens["gen1"]
    with c.websocket_connect(f"/ws/agent?token={token}") as ws:
        hello = ws.receive_json()
        assert hello["type"] == "hello"
        c.post("/internal/customer-message", json={"sender": "rest-4", "text": "第一条"}, headers=bridge.internal)
        first = ws.receive_json()
        assert first["type"] == "message" and first["message"]["text"] == "第一条"
    # the console is gone; the customer keeps writing
    for text in ("第二条", "第三条", f"电话{PHONE}"):
        c.post("/internal/customer-message", json={"sender": "rest-4", "text": text}, headers=bridge.internal)
    with c.websocket_connect(f"/ws/agent?token={token}&last_id={first['id']}") as ws:
        assert ws.receive_json()["type"] == "hello"
        got = [ws.receive_json() for _ in range(3)]
    assert [e["message"]["text"] for e in got] == ["第二条", "第三条", "电话138****5678"]


def test_websocket_refuses_a_wrong_token(bridge: Bridge) -> None:
    import pytest
    from starlette.websockets import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect):
        with bridge.client.websocket_connect("/ws/agent?token=nope") as ws:
            ws.receive_json()


def test_other_agents_messages_are_not_pushed(bridge: Bridge) -> None:
    c = bridge.client
    tid = bridge.escalate("rest-5")["ticket_id"]
    c.post(f"/api/tickets/{tid}/claim", headers=bridge.agent("gen1"))
    with c.websocket_connect(f"/ws/agent?token={bridge.tokens['gen2']}") as ws:
        ws.receive_json()
        c.post("/internal/customer-message", json={"sender": "rest-5", "text": "私密内容"}, headers=bridge.internal)
        bridge.escalate("rest-6")
        event = ws.receive_json()
        assert event["type"] == "queue" and "私密内容" not in str(event)


def test_safety_bump_and_leaving_the_queue(bridge: Bridge) -> None:
    c = bridge.client
    bridge.escalate("rest-7")
    bridge.escalate("rest-8")
    bumped = c.post("/internal/bump", json={"sender": "rest-8"}, headers=bridge.internal).json()
    assert bumped["position"] == 1
    left = c.post("/internal/leave", json={"sender": "rest-8"}, headers=bridge.internal)
    assert left.status_code == 200
    assert c.get("/internal/conversations/rest-7", headers=bridge.internal).json()["position"] == 1
    assert bridge.rasa.events["rest-8"] == [{"event": "resume"}]


def test_transfer_to_another_agent(bridge: Bridge) -> None:
    c = bridge.client
    tid = bridge.escalate("rest-9")["ticket_id"]
    c.post(f"/api/tickets/{tid}/claim", headers=bridge.agent("gen1"))
    c.get("/api/me", headers=bridge.agent("gen2"))  # gen2 is online
    assert c.post(f"/api/tickets/{tid}/transfer", json={"agent_id": "gen2"}, headers=bridge.agent("gen1")).status_code == 200
    assert c.post(f"/api/tickets/{tid}/claim", headers=bridge.agent("safe1")).status_code == 409
    mine = c.post(f"/api/tickets/{tid}/claim", headers=bridge.agent("gen2"))
    assert mine.status_code == 200 and mine.json()["owner"] == "gen2"
