"""The chat page's queue banner: the place in line in the domain's one sentence
(排在第 N 位, as the bubbles say it), in the conversation's script."""
from __future__ import annotations

from tests.handoff.conftest import Bridge


def test_the_banner_says_the_place_in_line_one_way(bridge: Bridge) -> None:
    bridge.escalate("first-in-line")
    bridge.escalate("second-in-line")
    first = bridge.client.get("/customer/first-in-line/status").json()
    second = bridge.client.get("/customer/second-in-line/status").json()
    assert first["position"] == 1 and second["position"] == 2
    assert "排在第 2 位" in second["text"] and f"约 {second['wait_minutes']} 分钟" in second["text"]
    assert "排在第 1 位" in first["text"]
    assert not any("前面还有" in s["text"] for s in (first, second))


def test_the_banner_follows_a_traditional_conversation(bridge: Bridge) -> None:
    bridge.escalate("hant-in-line", traditional=True)
    text = bridge.client.get("/customer/hant-in-line/status").json()["text"]
    assert "排在第 1 位" in text and "預計" in text


def test_no_banner_once_a_person_has_the_chat(bridge: Bridge) -> None:
    tid = bridge.escalate("held")["ticket_id"]
    assert bridge.client.post(f"/api/tickets/{tid}/claim", headers=bridge.agent("gen1")).status_code == 200
    status = bridge.client.get("/customer/held/status").json()
    assert status["state"] == "active" and "text" not in status
