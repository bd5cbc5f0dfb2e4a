"""bot.stores.tracker_store stores exactly what Rasa's RedisTrackerStore stores, without replaying on save."""
from __future__ import annotations

import asyncio
import json
from typing import Any, List, Type
from urllib.parse import urlparse

import redis
from rasa.core.tracker_store import RedisTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.stores.tracker_store import KefuRedisTrackerStore


def store(cls: Type[RedisTrackerStore], redis_url: str, prefix: str) -> Any:
    url = urlparse(redis_url)
    return cls(Domain.empty(), host=url.hostname or "127.0.0.1", port=url.port or 6379,
               db=int((url.path or "/0").strip("/") or 0), key_prefix=prefix, record_exp=3600)


def session(start: float, *texts: str) -> List[Event]:
    events: List[Event] = [ActionExecuted("action_session_start", timestamp=start), SessionStarted(timestamp=start + 0.1),
                           ActionExecuted("action_listen", timestamp=start + 0.2)]
    for i, text in enumerate(texts):
        events += [UserUttered(text, {"name": "greet", "confidence": 1.0}, timestamp=start + 1 + i),
                   ActionExecuted("utter_greet", timestamp=start + 1.1 + i),
                   BotUttered("您好", timestamp=start + 1.2 + i), ActionExecuted("action_listen", timestamp=start + 1.3 + i)]
    return events


async def conversation(s: RedisTrackerStore) -> None:
    """Two sessions: the second is retrieved alone (Rasa's view) and a turn is added to it."""
    tracker = DialogueStateTracker("c1", [])
    for e in session(1000.0, "你好", "在吗"):
        tracker.update(e)
    await s.save(tracker)
    tracker = await s.retrieve("c1")
    for e in session(5000.0, "又是我"):
        tracker.update(e)
    await s.save(tracker)
    latest = await s.retrieve("c1")  # the second session only
    assert latest is not None
    for e in session(9000.0, "还有一个问题")[-4:]:
        latest.update(e)
    await s.save(latest)


def test_same_stored_conversation_as_rasas_store_across_sessions(redis_url: str) -> None:
    ours, rasas = store(KefuRedisTrackerStore, redis_url, "ours"), store(RedisTrackerStore, redis_url, "rasa")
    asyncio.run(conversation(ours))
    asyncio.run(conversation(rasas))
    r = redis.Redis.from_url(redis_url)
    stored_ours, stored_rasa = json.loads(r.get(ours.key_prefix + "c1")), json.loads(r.get(rasas.key_prefix + "c1"))
    assert stored_ours == stored_rasa
    texts = [e.get("text") for e in stored_ours["events"] if e["event"] == "user"]
    assert texts == ["你好", "在吗", "又是我", "还有一个问题"], "an earlier session was lost on save"
    assert 0 < r.ttl(ours.key_prefix + "c1") <= 3600
    assert ours.fast_saves + ours.versioned_saves >= 2 and ours.merged_saves == 1, \
        "only the single-session view needs Rasa's merge"


def test_a_turn_appended_to_a_retrieved_tracker_is_saved_without_a_merge(redis_url: str) -> None:
    ours = store(KefuRedisTrackerStore, redis_url, "ours")

    async def run() -> DialogueStateTracker:
        tracker = DialogueStateTracker("c2", [])
        for e in session(1000.0, "你好"):
            tracker.update(e)
        await ours.save(tracker)
        again = await ours.retrieve("c2")
        assert again is not None
        again.update(UserUttered("谢谢", {"name": "thank", "confidence": 1.0}, timestamp=1100.0))
        await ours.save(again)
        back = await ours.retrieve("c2")
        assert back is not None
        return back

    back = asyncio.run(run())
    assert back.latest_message is not None and back.latest_message.text == "谢谢"
    assert ours.merged_saves == 0 and ours.fast_saves + ours.versioned_saves == 2
