"""Personal data in Redis expires: KEFU_RETENTION_DAYS after the last write.

Against a real redis-server (tests/conftest.py). On the audited code the
transcript stream, the open ticket and the conversation pointer had no TTL
at all (``TTL`` answered -1), so a customer's words were kept forever.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest
import redis

from core import keys
from handoff.exceptions import QueueEmpty
from handoff.queue import HandoffQueue, Message, NewTicket
from handoff.settings import Settings, SettingsError
from tests.handoff.conftest import Bridge, add_agents, make_settings, start_bridge

DAY = 86400


def test_retention_setting_defaults_to_30_days_and_fails_fast() -> None:
    base = {"KEFU_RASA_TOKEN": "r", "KEFU_INTERNAL_TOKEN": "i"}
    assert Settings.from_env(base).retention_days == 30
    assert Settings.from_env({**base, "KEFU_RETENTION_DAYS": "7"}).retention_seconds == 7 * DAY
    for bad in ("abc", "0", "-3", "100000", "1.5"):
        with pytest.raises(SettingsError, match="KEFU_RETENTION_DAYS"):
            Settings.from_env({**base, "KEFU_RETENTION_DAYS": bad})


def _new(sender: str) -> NewTicket:
    line = Message(role="user", text="我电话13812345678", masked="我电话138****5678", ts=1)
    return NewTicket(sender=sender, channel="rest", reason="request_human", priority="P2",
                     summary="客户要求转人工", transcript=[line])


def _ttl(client: "redis.Redis[str]", key: str) -> int:
    return int(client.ttl(key))


async def test_every_write_sets_the_retention(redis_url: str, redis_client: "redis.Redis[str]") -> None:
    queue = HandoffQueue.from_url(redis_url, retention_seconds=3 * DAY)
    try:
        tid, _ = await queue.escalate(_new("ret-1"))
        written = [keys.ticket(tid), keys.transcript("ret-1"), keys.conversation("ret-1")]
        for key in written:
            assert 3 * DAY - 60 < _ttl(redis_client, key) <= 3 * DAY, key

        redis_client.persist(keys.transcript("ret-1"))
        redis_client.persist(keys.ticket(tid))
        await queue.append("ret-1", "user", "还在吗", "还在吗")  # a later write sets it again
        assert _ttl(redis_client, keys.transcript("ret-1")) > 3 * DAY - 60
        assert _ttl(redis_client, keys.ticket(tid)) > 3 * DAY - 60

        redis_client.persist(keys.ticket(tid))
        await queue.claim(tid, "a1", "小王", ["general"])
        assert _ttl(redis_client, keys.ticket(tid)) > 3 * DAY - 60

        await queue.push_customer("ret-1", {"text": "您好"})
        assert 0 < _ttl(redis_client, keys.customer_outbox("ret-1")) <= 3 * DAY
        await queue.set_customer_token("ret-1", "0" * 64)
        assert 0 < _ttl(redis_client, keys.customer_token("ret-1")) <= 3 * DAY

        await queue.resolve(tid, "a1")
        assert 0 < _ttl(redis_client, keys.ticket(tid)) <= 3 * DAY
        assert _ttl(redis_client, keys.transcript("ret-1")) > 0
    finally:
        await queue.close()


async def test_a_short_retention_really_deletes(redis_url: str, redis_client: "redis.Redis[str]") -> None:
    queue = HandoffQueue.from_url(redis_url, retention_seconds=1)
    try:
        tid, _ = await queue.escalate(_new("ret-2"))
        assert redis_client.exists(keys.ticket(tid), keys.transcript("ret-2"), keys.conversation("ret-2")) == 3
        deadline = time.monotonic() + 10
        while redis_client.exists(keys.ticket(tid), keys.transcript("ret-2")) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not redis_client.exists(keys.ticket(tid), keys.transcript("ret-2"), keys.conversation("ret-2"))
        # the expired ticket's place in line is dropped, not claimed as an empty ticket
        with pytest.raises(QueueEmpty):
            await queue.claim_next("a1", "小王", ["general"])
        assert redis_client.zcard(keys.QUEUE) == 0 and not redis_client.exists(keys.ticket(tid))
    finally:
        await queue.close()


@pytest.fixture()
def short_bridge(redis_url: str, tmp_path: Path) -> Iterator[Bridge]:
    settings = make_settings(redis_url, tmp_path, retention_days=2)
    yield from start_bridge(settings, add_agents(settings.agents_file))


def test_the_bridge_applies_kefu_retention_days(short_bridge: Bridge, redis_client: "redis.Redis[str]") -> None:
    body: Dict[str, Any] = {"transcript": [{"role": "user", "text": "身份证110105199003071001", "ts": 1}]}
    tid = short_bridge.escalate("ret-3", **body)["ticket_id"]
    resp = short_bridge.client.post("/internal/customer-message", json={"sender": "ret-3", "text": "在吗"},
                                    headers=short_bridge.internal)
    assert resp.status_code == 200
    for key in (keys.ticket(tid), keys.transcript("ret-3"), keys.conversation("ret-3"), keys.customer_token("ret-3")):
        assert 0 < _ttl(redis_client, key) <= 2 * DAY, key
