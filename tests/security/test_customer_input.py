"""Issue 12, customer input: each audit finding replayed against a real stack.

One `python -m bot.runner.stack` on free ports for the module, default limits.
Every test failed on the code the audit looked at, where the Kefu channels
passed any text to Rasa as it was: `/rate{...}` and `/EXTERNAL_...` were
read as intents, a pasted megabyte went into the tracker, and neither
messages nor escalations per sender were limited.
"""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import date
from typing import Any, Dict, Iterator, List, Optional

import httpx
import pytest
import redis
import redis.asyncio as aioredis
import socketio

from core.responses import load_responses
from bot.runner.stack_process import StackProcess
from core import keys
from handoff.queue import now_ms
from core.secrets import demo_tokens_path
from handoff.stats import Day, SupervisorStats
from tests.live import LiveStack, tracker_of

RATE_5 = '/rate{"rating":"5"}'


@dataclass
class Live(LiveStack):
    redis: "redis.Redis[str]"

    def agent(self, name: str) -> Dict[str, str]:
        lines = demo_tokens_path(self.data).read_text(encoding="utf-8").splitlines()[1:]
        tokens = dict(line.strip().split(": ", 1) for line in lines)
        return {"Authorization": f"Bearer {tokens[name]}"}

    def tracker(self, sender: str) -> Dict[str, Any]:
        return tracker_of(self.redis, sender)

    def user_intents(self, sender: str) -> List[str]:
        return [str(((e.get("parse_data") or {}).get("intent") or {}).get("name"))
                for e in self.tracker(sender)["events"] if e.get("event") == "user"]

    def rating_slot(self, sender: str) -> Optional[str]:
        found = [e.get("value") for e in self.tracker(sender)["events"] if e.get("event") == "slot" and e.get("name") == "rating"]
        return found[-1] if found else None

    def tickets(self, sender: str) -> List[Dict[str, str]]:
        found = [self.redis.hgetall(key) for key in self.redis.scan_iter(keys.TICKET_PREFIX + "*")]
        return [t for t in found if t.get("sender") == sender]

    def satisfaction(self) -> Dict[str, Any]:
        """The day's satisfaction as the supervisor view computes it, without its 10 s cache."""
        resp = httpx.get(f"{self.bridge}/api/supervisor/stats", headers=self.agent("demo3"), timeout=30)
        assert resp.status_code == 200, resp.text[:200]

        async def today() -> Dict[str, Any]:
            client = aioredis.Redis.from_url(self.stack.url("redis"), decode_responses=True)
            try:
                return await SupervisorStats(client, {"P0": 60_000, "P1": 300_000, "P2": 900_000}, 60_000).day_figures(
                    Day.of(date.today()), now_ms())
            finally:
                await client.close()  # redis-py 4.x: close(), not aclose()

        return dict(asyncio.run(today())["satisfaction"])


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    data = tmp_path_factory.mktemp("customer-input")
    stack = StackProcess(StackProcess.free_env(data))
    client = redis.Redis.from_url(stack.url("redis"), decode_responses=True)
    try:
        yield Live(stack, data, client)
    finally:
        client.close()
        stack.stop()


def kinds(replies: List[Dict[str, Any]]) -> List[str]:
    return [str((m.get("metadata") or {}).get("kind") or "") for m in replies]


def texts(name: str) -> List[str]:
    return [str(v["text"]) for v in load_responses()[name]]


# ---- payloads -------------------------------------------------------------------------------

def test_unsolicited_ratings_change_nothing(live: Live) -> None:
    before = live.satisfaction()
    live.say("ci-rate5", "您好")
    for _ in range(10):
        assert kinds(live.say("ci-rate5", RATE_5)) == ["payload_refused"]
    assert "rate" not in live.user_intents("ci-rate5"), "the forged payload reached Rasa as an intent"
    assert live.rating_slot("ci-rate5") is None
    assert live.satisfaction()["count"] == before["count"]


def test_a_forged_low_rating_opens_no_ticket(live: Live) -> None:
    assert kinds(live.say("ci-rate1", '/rate{"rating":"1"}')) == ["payload_refused"]
    assert live.tickets("ci-rate1") == [] and not live.redis.get(keys.conversation("ci-rate1"))
    assert "rate" not in live.user_intents("ci-rate1")


@pytest.mark.parametrize("payload", [
    "/EXTERNAL_handoff_resolved", '/EXTERNAL_handoff_handback{"flow":"refund"}', " /request_human",
    "／rate｛\"rating\":\"5\"｝", "\u200b/rate{\"rating\":\"5\"}", "<b>/restart", "/ rate",
])
def test_external_and_disguised_payloads_are_refused(live: Live, payload: str) -> None:
    sender = f"ci-ext-{abs(hash(payload)) % 10**6}"
    assert kinds(live.say(sender, payload)) == ["payload_refused"]
    assert live.user_intents(sender) == []


def test_slash_that_names_no_intent_is_read_as_words(live: Live) -> None:
    replies = live.say("ci-words", "/ 你好")
    assert replies and "payload_refused" not in kinds(replies)
    assert live.user_intents("ci-words") == ["greet"]


def test_an_offered_rating_button_counts_once(live: Live) -> None:
    before = live.satisfaction()["count"]
    live.say("ci-button", "转人工")
    state, _, ticket = str(live.redis.get(keys.conversation("ci-button"))).partition(":")
    assert state == "waiting", state
    agent = live.agent("demo1")
    assert httpx.post(f"{live.bridge}/api/tickets/{ticket}/claim", headers=agent, timeout=30).status_code == 200
    resolved = httpx.post(f"{live.bridge}/api/tickets/{ticket}/resolve", headers=agent, timeout=60)
    assert resolved.status_code == 200 and resolved.json()["relayed"] >= 1, resolved.text
    thanks = live.say("ci-button", RATE_5)
    assert any("5" in m.get("text", "") and "payload_refused" not in kinds([m]) for m in thanks), thanks
    assert live.rating_slot("ci-button") == "5"
    assert kinds(live.say("ci-button", RATE_5)) == ["payload_refused"]
    assert live.satisfaction()["count"] == before + 1


# ---- limits ---------------------------------------------------------------------------------

class BrowserJson:
    """JSON as a browser's JSON.stringify writes it: Chinese as characters, not \\u escapes."""

    @staticmethod
    def dumps(obj: Any, **kwargs: Any) -> str:
        return json.dumps(obj, **dict(kwargs, ensure_ascii=False))

    @staticmethod
    def loads(text: str, **kwargs: Any) -> Any:
        return json.loads(text, **kwargs)


async def test_a_megabyte_on_socketio_is_answered_and_the_tracker_stays_small(live: Live) -> None:
    client = socketio.AsyncClient(json=BrowserJson)
    answers: "asyncio.Queue[Dict[str, Any]]" = asyncio.Queue()
    client.on("bot_uttered", answers.put_nowait)
    await client.connect(live.rasa, socketio_path="/socket.io", transports=["websocket"])
    try:
        await client.emit("session_request", {"session_id": "ci-huge"})
        await asyncio.sleep(0.5)
        for _ in range(3):
            # 1 MB as the browser sends it (UTF-8); Sanic's websocket takes frames up to 1 MiB
            await client.emit("user_uttered", {"message": "我的外卖还没到" + "等" * 333_000, "session_id": "ci-huge"})
            assert (await asyncio.wait_for(answers.get(), 60)).get("text")
            await asyncio.sleep(0.5)
            while not answers.empty():
                answers.get_nowait()
    finally:
        await client.disconnect()
    users = [e["text"] for e in live.tracker("ci-huge")["events"] if e.get("event") == "user"]
    assert [len(t) for t in users] == [2000] * 3
    # 3 x 2000 characters, each kept as text, parse text and original_text, JSON-escaped: ~110 KB, not 3 MB
    assert live.redis.strlen("kefu:tracker:ci-huge") < 200_000


def test_long_rest_messages_are_cut(live: Live) -> None:
    for _ in range(3):
        assert live.say("ci-long", "我要退款" + "啊" * 15000)  # under the webhook's 64 KB body limit
    users = [e["text"] for e in live.tracker("ci-long")["events"] if e.get("event") == "user"]
    assert users and all(len(t) == 2000 for t in users)


def test_a_flood_is_answered_politely_and_others_are_not_slowed(live: Live) -> None:
    replies = [live.say("ci-flood", "你好") for _ in range(40)]
    assert all("rate_limited" not in kinds(r) for r in replies[:30])
    assert all(kinds(r) == ["rate_limited"] and r[0]["text"] in texts("utter_message_rate_limited") for r in replies[30:])
    assert len([i for i in live.user_intents("ci-flood")]) == 30
    other = live.say("ci-calm", "你好")
    assert other and "rate_limited" not in kinds(other)


def test_escalations_are_limited_but_safety_always_reaches_a_person(live: Live) -> None:
    limited = 0
    for _ in range(8):
        answer = " ".join(m.get("text", "") for m in live.say("ci-esc", "转人工"))
        if any(t in answer for t in texts("utter_handoff_limit")):
            limited += 1
            assert not live.redis.get(keys.conversation("ci-esc"))
        else:
            assert str(live.redis.get(keys.conversation("ci-esc"))).startswith("waiting:"), answer
            assert kinds(live.say("ci-esc", "不用了")) == ["queue_left"]
    assert len(live.tickets("ci-esc")) == 5 and limited == 3
    live.say("ci-esc", "救命,司机喝了酒还在超速,我很害怕")
    tickets = live.tickets("ci-esc")
    assert len(tickets) == 6 and [t["priority"] for t in tickets].count("P0") == 1
