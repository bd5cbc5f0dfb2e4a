"""bot.stores.lock_store: one customer's messages are handled one at a time, in order, across workers (real Redis)."""
from __future__ import annotations

import asyncio
import threading
import time
from typing import List
from urllib.parse import urlparse

import pytest
import redis
from rasa.core.lock_store import LockError
from rasa.utils.endpoints import EndpointConfig

from bot.stores.lock_store import KefuRedisLockStore


def make_store(redis_url: str) -> KefuRedisLockStore:
    url = urlparse(redis_url)
    config = EndpointConfig.from_dict({"type": "bot.stores.lock_store.KefuRedisLockStore", "url": url.hostname,
                                       "port": str(url.port), "db": (url.path or "/0").strip("/") or "0",
                                       "key_prefix": "kefu"})
    return KefuRedisLockStore(endpoint_config=config)


def test_messages_of_one_conversation_are_handled_one_at_a_time_in_arrival_order(redis_url: str) -> None:
    store = make_store(redis_url)
    entered: List[int] = []
    inside = {"now": 0, "max": 0}

    async def message(n: int) -> None:
        await asyncio.sleep(n * 0.002)  # arrival order 0, 1, 2, ...
        async with store.lock("c1"):
            inside["now"] += 1
            inside["max"] = max(inside["max"], inside["now"])
            entered.append(n)
            await asyncio.sleep(0.01)
            inside["now"] -= 1

    async def run() -> None:
        await asyncio.gather(*(message(n) for n in range(8)))

    asyncio.run(run())
    assert entered == list(range(8))
    assert inside["max"] == 1, "two messages of one customer were handled at the same time"
    assert redis.Redis.from_url(redis_url).keys("kefu:lock:*") == [], "the lock outlived its last ticket"


def test_two_workers_never_issue_the_same_ticket(redis_url: str) -> None:
    stores = [make_store(redis_url), make_store(redis_url)]
    issued: List[int] = []
    guard = threading.Lock()

    def worker(store: KefuRedisLockStore) -> None:
        for _ in range(300):
            n = store.issue_ticket("c2", 30)
            with guard:
                issued.append(n)

    threads = [threading.Thread(target=worker, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(issued) == list(range(1, 601))


def test_a_dead_holder_lets_the_next_message_in_after_its_lifetime(redis_url: str) -> None:
    store = make_store(redis_url)
    store.issue_ticket("c3", 0.3)  # a worker took the lock and died

    async def run() -> float:
        started = time.monotonic()
        async with store.lock("c3", lock_lifetime=30):
            return time.monotonic() - started

    waited = asyncio.run(run())
    assert 0.2 < waited < 3


def test_a_ticket_that_expires_while_waiting_is_an_error_not_a_second_holder(redis_url: str) -> None:
    store = make_store(redis_url)
    store.issue_ticket("c4", 30)  # held for a long time

    async def run() -> None:
        async with store.lock("c4", lock_lifetime=0.2, wait_time_in_seconds=0.05):
            pass

    with pytest.raises(LockError):
        asyncio.run(run())
