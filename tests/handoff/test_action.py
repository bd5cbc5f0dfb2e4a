"""action_handoff: escalation, and nothing lost when the bridge or Redis is down."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import redis
from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionHandoff
from bot.runner.redis_server import EmbeddedRedis, free_port
from core.responses import render
from core import keys
from handoff.outbox import Outbox
from tests.conftest import eventually
from tests.handoff.conftest import INTERNAL_TOKEN, ThreadedBridge, add_agents, make_settings


def tracker(sender: str, intent: str = "request_human", slots: Optional[Dict[str, Any]] = None,
            sentiment: str = "calm", channel: str = "rest") -> Tracker:
    user = {"event": "user", "text": "我要转人工,电话13812345678", "timestamp": 1700000000.0, "input_channel": channel,
            "parse_data": {"intent": {"name": intent}, "entities": [], "sentiment": {"label": sentiment}}}
    events: List[Dict[str, Any]] = [
        {"event": "user", "text": "我的外卖还没到", "timestamp": 1699999990.0, "input_channel": channel,
         "parse_data": {"intent": {"name": "report_delay"}, "entities": []}},
        {"event": "bot", "text": "抱歉让您久等了", "timestamp": 1699999991.0},
        user,
    ]
    values = {"handoff_reason": None, "handoff_summary": None, "order_id": "2023112215300012345", "order_type": "food"}
    values.update(slots or {})
    return Tracker(sender, values, dict(user["parse_data"], text=user["text"]), events, False, None, {}, "action_listen")


@pytest.fixture()
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Dict[str, Any]:
    port = free_port()
    monkeypatch.setenv("KEFU_HANDOFF_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("KEFU_INTERNAL_TOKEN", INTERNAL_TOKEN)
    monkeypatch.setenv("KEFU_DATA_DIR", str(tmp_path))
    return {"port": port, "tmp": tmp_path}


async def run_action(t: Tracker) -> tuple[List[Dict[str, Any]], List[Any]]:
    dispatcher = CollectingDispatcher()
    events = await ActionHandoff().run(dispatcher, t, {})
    return dispatcher.messages, events


async def test_escalation_tells_the_position_and_pauses_the_bot(env: Dict[str, Any], redis_url: str) -> None:
    settings = make_settings(redis_url, env["tmp"])
    add_agents(settings.agents_file)
    with ThreadedBridge(settings, env["port"]):
        messages, events = await run_action(tracker("c1", sentiment="angry"))
    assert messages[0]["response"] == "utter_handoff_queued" and messages[0]["position"] == 1
    assert messages[1]["custom"]["handoff"]["token"], "REST customers get a poll token"
    assert events == [SlotSet("handoff_reason", None), ConversationPaused()]
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    tid = r.get(keys.conversation("c1")).split(":")[1]
    ticket = r.hgetall(keys.ticket(tid))
    assert ticket["priority"] == "P1" and ticket["reason"] == "request_human"
    assert ticket["summary"] == "客户要求人工服务,诉求:反映延误,订单 2023112215300012345"
    assert ticket["intents"] == '["report_delay", "request_human"]'
    lines = r.xrange(keys.transcript("c1"))
    assert [f["masked"] for _, f in lines] == ["我的外卖还没到", "抱歉让您久等了", "我要转人工,电话138****5678"]


async def test_safety_goes_first_with_instructions(env: Dict[str, Any], redis_url: str) -> None:
    settings = make_settings(redis_url, env["tmp"])
    with ThreadedBridge(settings, env["port"]):
        await run_action(tracker("c1"))
        messages, _ = await run_action(tracker("c2", intent="report_safety"))
    assert messages[0]["response"] == "utter_handoff_queued_safety" and messages[0]["position"] == 1


async def test_bridge_down_keeps_the_escalation_and_delivers_it_at_start_up(env: Dict[str, Any], redis_url: str) -> None:
    messages, events = await run_action(tracker("late-1"))
    assert [m["response"] for m in messages] == ["utter_handoff_delayed"]
    assert events == [SlotSet("handoff_reason", None)], "the bot must keep answering until a person can be queued"
    assert len(Outbox(env["tmp"] / "handoff_outbox.sqlite3").pending()) == 1

    settings = make_settings(redis_url, env["tmp"])
    with ThreadedBridge(settings, env["port"]) as bridge:
        r = redis.Redis.from_url(redis_url, decode_responses=True)
        deadline = time.monotonic() + 10
        while not r.get(keys.conversation("late-1")):
            assert time.monotonic() < deadline, "the stored escalation was never delivered"
            await asyncio.sleep(0.1)
        await eventually(lambda: bridge.recorder.events.get("late-1"), "Rasa was never told to pause the bot")
        assert bridge.recorder.events["late-1"][0] == {"event": "pause"}
    assert Outbox(env["tmp"] / "handoff_outbox.sqlite3").pending() == []
    told = [m for _, m in r.xrange(keys.customer_outbox("late-1"))]
    assert told and "第 1 位" in told[0]["data"]


async def test_redis_down_then_back_delivers_in_order(env: Dict[str, Any], tmp_path: Path) -> None:
    own = EmbeddedRedis(data_dir=tmp_path / "own-redis").start()
    try:
        settings = make_settings(own.url, env["tmp"])
        with ThreadedBridge(settings, env["port"]):
            own.stop()
            messages, _ = await run_action(tracker("first", intent="report_safety"))
            # one bubble after action_safety's instructions, and no second copy of the 110 advice
            assert [m["response"] for m in messages] == ["utter_handoff_delayed_safety"]
            told = render(messages[0]["response"])
            assert "110" not in told and "记录" in told
            own.start()
            messages, events = await run_action(tracker("second"))
            assert messages[0]["response"] == "utter_handoff_queued" and messages[0]["position"] == 2
            assert ConversationPaused() in events
        r = redis.Redis.from_url(own.url, decode_responses=True)
        first = r.get(keys.conversation("first")).split(":")[1]
        assert r.hget(keys.ticket(first), "priority") == "P0"
        assert r.zrange(keys.QUEUE, 0, -1)[0] == first
        assert Outbox(env["tmp"] / "handoff_outbox.sqlite3").pending() == []
    finally:
        own.stop()


async def test_a_token_mismatch_keeps_the_escalation_until_it_is_fixed(env: Dict[str, Any], redis_url: str,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A 401 from the bridge is a configuration to fix, not a bad escalation: never dropped."""
    monkeypatch.setattr("actions.handoff.RETRY_SECONDS", 0.2)
    wrong = make_settings(redis_url, env["tmp"], internal_token="a-rotated-token")
    with ThreadedBridge(wrong, env["port"]):
        messages, _ = await run_action(tracker("token-1"))
        assert [m["response"] for m in messages] == ["utter_handoff_delayed"]
        await asyncio.sleep(1.0)  # several retries, each refused with 401
        assert len(Outbox(env["tmp"] / "handoff_outbox.sqlite3").pending()) == 1
    with ThreadedBridge(make_settings(redis_url, env["tmp"]), env["port"]):
        r = redis.Redis.from_url(redis_url, decode_responses=True)
        await eventually(lambda: r.get(keys.conversation("token-1")), "the kept escalation was never delivered")
