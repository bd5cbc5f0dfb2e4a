"""The tracker store's cache (bot/stores/tracker_cache.py) gives exactly what a read from Redis gives.

Real Redis (tests/conftest.py's server), real Rasa trackers, and for the
equivalence the trained model answering the same conversations with the
cache on and off.
"""
from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any, Dict, List, Tuple
from urllib.parse import urlparse

import pytest
import redis
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.lock_store import InMemoryLockStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from bot.stores import tracker_cache
from bot.stores.tracker_store import KefuRedisTrackerStore
from orders.service import SqliteOrderService
from tests.foundation.test_tracker_store import session
from tests.model import in_process_actions, load


def make_store(redis_url: str, size: int, monkeypatch: pytest.MonkeyPatch, domain: Any = None) -> KefuRedisTrackerStore:
    monkeypatch.setenv(tracker_cache.SIZE_ENV, str(size))
    url = urlparse(redis_url)
    return KefuRedisTrackerStore(domain or Domain.empty(), host=url.hostname or "127.0.0.1", port=url.port or 6379,
                                 db=int((url.path or "/0").strip("/") or 0), key_prefix="kefu", record_exp=3600)


def started(store: KefuRedisTrackerStore, sender: str, *texts: str) -> DialogueStateTracker:
    tracker = store.init_tracker(sender)  # with the domain's slots, as Rasa creates trackers
    for event in session(1000.0, *texts):
        tracker.update(event)
    return tracker


def state(tracker: DialogueStateTracker) -> Dict[str, Any]:
    return tracker.current_state(EventVerbosity.ALL)


def test_the_next_turn_gets_the_saved_tracker_without_a_read(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    store = make_store(redis_url, 10, monkeypatch)

    async def run() -> None:
        tracker = started(store, "c1", "你好")
        await store.save(tracker)
        again = await store.retrieve_full_tracker("c1")
        assert again is tracker and store.cache.hits == 1
        again.update(UserUttered("谢谢", {"name": "thank", "confidence": 1.0}, timestamp=2000.0))
        await store.save(again)
        assert store.versioned_saves == 1  # the check-then-write script, no read of the stored tracker
        # what Redis holds is what Rasa's own read gives
        fresh = make_store(redis_url, 0, monkeypatch)
        assert state(await fresh.retrieve_full_tracker("c1")) == state(again)

    asyncio.run(run())
    r = redis.Redis.from_url(redis_url)
    assert 0 < r.ttl("kefu:tracker_version:c1") <= 3600, "the counter expires with the tracker"
    assert [k.decode() for k in r.keys("kefu:tracker:*")] == ["kefu:tracker:c1"], "the counter is no conversation"


def test_another_workers_write_is_read_from_redis(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    ours, theirs = make_store(redis_url, 10, monkeypatch), make_store(redis_url, 10, monkeypatch)

    async def run() -> None:
        await ours.save(started(ours, "c2", "你好"))
        other = await theirs.retrieve_full_tracker("c2")
        other.update(UserUttered("另一个进程", {"name": "inform", "confidence": 1.0}, timestamp=3000.0))
        await theirs.save(other)
        back = await ours.retrieve_full_tracker("c2")
        assert back.latest_message.text == "另一个进程"
        assert ours.cache.hits == 0 and ours.cache.misses == 1

    asyncio.run(run())


def test_a_stale_holder_cannot_overwrite_a_newer_write(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Read at version n, someone else wrote n+1: the save merges (Rasa's way), it does not clobber."""
    ours, theirs = make_store(redis_url, 10, monkeypatch), make_store(redis_url, 10, monkeypatch)

    async def run() -> List[str]:
        await ours.save(started(ours, "c3", "你好"))
        mine = await ours.retrieve_full_tracker("c3")
        other = await theirs.retrieve_full_tracker("c3")
        other.update(UserUttered("别人写的", {"name": "inform", "confidence": 1.0}, timestamp=3000.0))
        await theirs.save(other)
        mine.update(UserUttered("我写的", {"name": "inform", "confidence": 1.0}, timestamp=4000.0))
        await ours.save(mine)
        assert ours.merged_saves == 1 and ours.versioned_saves == 0
        stored = await make_store(redis_url, 0, monkeypatch).retrieve_full_tracker("c3")
        return [e.text for e in stored.events if isinstance(e, UserUttered)]

    assert asyncio.run(run()) == ["你好", "别人写的", "我写的"]


def test_a_deleted_or_expired_conversation_is_not_brought_back(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    store = make_store(redis_url, 10, monkeypatch)

    async def run() -> Tuple[Any, Any]:
        await store.save(started(store, "c4", "你好"))
        await store.save(started(store, "c5", "你好"))
        r = redis.Redis.from_url(redis_url)
        r.delete("kefu:tracker:c4")  # an operator's deletion (the counter stays)
        r.delete("kefu:tracker:c5", "kefu:tracker_version:c5")  # both expired
        return await store.retrieve("c4"), await store.retrieve("c5")

    assert asyncio.run(run()) == (None, None)


def test_a_tracker_handed_out_is_never_served_twice(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whoever retrieved it may change it and never save: the next read comes from Redis."""
    store = make_store(redis_url, 10, monkeypatch)

    async def run() -> None:
        saved = started(store, "c6", "你好")
        await store.save(saved)
        handed = await store.retrieve("c6")
        handed.update(UserUttered("没保存", {"name": "inform", "confidence": 1.0}, timestamp=5000.0))
        again = await store.retrieve("c6")
        assert again is not handed and again.latest_message.text == "你好"
        # a saved tracker changed afterwards is not served either
        await store.save(again)
        again.update(UserUttered("保存后又改", {"name": "inform", "confidence": 1.0}, timestamp=6000.0))
        third = await store.retrieve("c6")
        assert third is not again and third.latest_message.text == "你好"

    asyncio.run(run())


def test_the_last_session_from_the_cache_is_rasas_last_session(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    cached, plain = make_store(redis_url, 10, monkeypatch), make_store(redis_url, 0, monkeypatch)

    async def run() -> None:
        tracker = started(cached, "c7", "你好", "在吗")
        for event in session(5000.0, "又是我"):
            tracker.update(event)
        await cached.save(tracker)
        last = await cached.retrieve("c7")
        assert cached.cache.hits == 1 and last is not tracker
        assert state(last) == state(await plain.retrieve("c7"))
        assert [e.text for e in last.events if isinstance(e, UserUttered)] == ["又是我"]
        # the whole tracker stayed cached; the last session is saved with Rasa's merge
        last.update(UserUttered("第二段", {"name": "inform", "confidence": 1.0}, timestamp=7000.0))
        await cached.save(last)
        whole = await plain.retrieve_full_tracker("c7")
        assert [e.text for e in whole.events if isinstance(e, UserUttered)] == ["你好", "在吗", "又是我", "第二段"]

    asyncio.run(run())


def test_the_cache_is_bounded(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    store = make_store(redis_url, 3, monkeypatch)

    async def run() -> None:
        for i in range(10):
            await store.save(started(store, f"b{i}", "你好"))
        assert len(store.cache) == 3
        assert await store.retrieve("b0") is not None and store.cache.misses == 0  # not cached: a plain read

    asyncio.run(run())


def test_a_bad_size_setting_stops_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(tracker_cache.SIZE_ENV, "many")
    with pytest.raises(ValueError, match=tracker_cache.SIZE_ENV):
        tracker_cache.configured_size()


CONVERSATIONS = [
    ["你好", "我的外卖怎么还没到", "2023112215300012345", "好的", "谢谢"],
    ["我要退款", "2023112215300012345", "不用了", "再见"],
    ["转人工", "算了", "asdf", "zxcv", "qwer"],
]


def _without_ids(value: Any) -> Any:
    """An event as stored, without what differs on every run (times, random message ids)."""
    if isinstance(value, dict):
        return {k: _without_ids(v) for k, v in value.items() if k not in ("timestamp", "message_id")}
    if isinstance(value, list):
        return [_without_ids(v) for v in value]
    return value


def _replay(redis_url: str, size: int, monkeypatch: pytest.MonkeyPatch) -> Tuple[List[List[str]], List[Any]]:
    """Every conversation through the trained model on Kefu's Redis store; replies and stored events."""
    agent = load(action_endpoint=in_process_actions(), lock_store=InMemoryLockStore())
    store = make_store(redis_url, size, monkeypatch, agent.domain)
    agent.tracker_store = store
    agent.processor.tracker_store = store
    replies: List[List[str]] = []
    for n, texts in enumerate(CONVERSATIONS):
        for text in texts:
            out = CollectingOutputChannel()
            asyncio.run(agent.handle_message(UserMessage(text, out, f"eq{n}")))
            replies.append([m.get("text") or "" for m in out.messages])
    r = redis.Redis.from_url(redis_url)
    stored = []
    for n in range(len(CONVERSATIONS)):
        events = json.loads(r.get(f"kefu:tracker:eq{n}"))["events"]
        stored.append([_without_ids(e) for e in events])
    if size:
        assert store.cache.hits > 0 and store.versioned_saves > 0, "the cache was not used"
    return replies, stored


def test_the_same_conversations_give_the_same_replies_and_trackers_with_the_cache(
        redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # one clock for both replays: "晚了 56 分钟" must not become 57 because a minute passed between them
    frozen = datetime.now().replace(microsecond=0)
    monkeypatch.setattr(SqliteOrderService, "now", lambda self: frozen)
    with_cache = _replay(redis_url, 50, monkeypatch)
    redis.Redis.from_url(redis_url).flushdb()
    without = _replay(redis_url, 0, monkeypatch)
    assert with_cache[0] == without[0]
    for ours, rasas in zip(with_cache[1], without[1]):
        assert len(ours) == len(rasas)
        for a, b in zip(ours, rasas):
            assert a == b
