"""Issue 12: agents see a masked customer handle, never the conversation id.

The id is what a customer's REST client or page uses to talk and to poll;
an agent (or a screenshot of the console) that showed it would let anyone
who saw it continue the chat as the customer.
"""
from __future__ import annotations

from tests.handoff.conftest import Bridge

SENDER = "web-k3y7qz9p2m8x1c5v"


def test_no_agent_view_contains_the_raw_conversation_id(bridge: Bridge) -> None:
    tid = bridge.escalate(SENDER)["ticket_id"]
    c, agent = bridge.client, bridge.agent("gen1")
    views = [c.get("/api/queue", headers=agent)]
    views.append(c.post(f"/api/tickets/{tid}/claim", headers=agent))
    views.append(c.get(f"/api/tickets/{tid}", headers=agent))
    views.append(c.get("/api/chats", headers=agent))
    views.append(c.get(f"/api/tickets/{tid}/context", headers=agent))
    for resp in views:
        assert resp.status_code == 200, resp.text
        assert SENDER not in resp.text and SENDER[-8:] not in resp.text
    ticket = views[2].json()
    assert ticket["customer"] and ticket["customer"] != SENDER
