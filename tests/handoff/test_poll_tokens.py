"""Issue 12: the REST customer's poll token is not a key to someone else's chat.

Before: saying 转人工 as the victim's sender issued a NEW poll token (the
victim's stopped working) and that token read the agent's whole history.
Now each escalation adds a token that sees only what is sent after it was
issued, and earlier tokens keep working.
"""
from __future__ import annotations

from typing import Any, Dict, List

from tests.handoff.conftest import Bridge


def _poll(bridge: Bridge, sender: str, token: str) -> List[Dict[str, Any]]:
    resp = bridge.client.get(f"/customer/{sender}/messages", params={"token": token})
    assert resp.status_code == 200, resp.text
    return list(resp.json()["messages"])


def test_a_second_escalation_does_not_read_the_agents_earlier_messages(bridge: Bridge) -> None:
    first = bridge.escalate("victim-1")
    tid = first["ticket_id"]
    c = bridge.client
    assert c.post(f"/api/tickets/{tid}/claim", headers=bridge.agent("gen1")).status_code == 200
    secret = "您的退款单号是 RF2023 请查收"
    assert c.post(f"/api/tickets/{tid}/messages", json={"text": secret}, headers=bridge.agent("gen1")).status_code == 201
    assert any(m["text"] == secret for m in _poll(bridge, "victim-1", first["customer_token"]))

    again = bridge.escalate("victim-1")  # someone else says 转人工 with the same sender
    assert again["customer_token"] != first["customer_token"]
    assert not any(m["text"] == secret for m in _poll(bridge, "victim-1", again["customer_token"]))

    later = "好的,还有别的问题吗?"
    assert c.post(f"/api/tickets/{tid}/messages", json={"text": later}, headers=bridge.agent("gen1")).status_code == 201
    assert [m["text"] for m in _poll(bridge, "victim-1", again["customer_token"])] == [later]
    # the customer's own token still works, and still sees everything it saw
    assert [m["text"] for m in _poll(bridge, "victim-1", first["customer_token"])][-2:] == [secret, later]


def test_a_token_cannot_ask_for_messages_before_its_issue(bridge: Bridge) -> None:
    first = bridge.escalate("victim-2")
    tid = first["ticket_id"]
    c = bridge.client
    c.post(f"/api/tickets/{tid}/claim", headers=bridge.agent("gen1"))
    c.post(f"/api/tickets/{tid}/messages", json={"text": "早先的消息"}, headers=bridge.agent("gen1"))
    again = bridge.escalate("victim-2")
    resp = c.get("/customer/victim-2/messages", params={"token": again["customer_token"], "after": "0-1"})
    assert resp.status_code == 200
    assert not any(m["text"] == "早先的消息" for m in resp.json()["messages"])
