"""The queue under contention and failure, against a real redis-server."""
from __future__ import annotations

import asyncio
import random
from collections import Counter
from typing import Dict, List

import pytest

from bot.runner.redis_server import EmbeddedRedis
from core import keys
from handoff.exceptions import AlreadyClaimed, CapacityReached, LeaseExpired, NotOwner, QueueEmpty, QueueUnavailable
from handoff.queue import HandoffQueue, Message, NewTicket


def ticket(sender: str, priority: str = "P2", reason: str = "request_human", **extra: object) -> NewTicket:
    return NewTicket(sender=sender, channel="rest", reason=reason, priority=priority, summary="客户要求转人工", **extra)  # type: ignore[arg-type]


async def test_twenty_agents_race_for_a_thousand_tickets(redis_url: str) -> None:
    """Every ticket claimed exactly once, none lost, P0 first, FIFO inside a class."""
    clock = {"ms": 1_700_000_000_000}

    def now() -> int:
        clock["ms"] += 1  # strictly increasing enqueue times, so FIFO order is well defined
        return clock["ms"]

    producer = HandoffQueue.from_url(redis_url, clock=now)
    rng = random.Random(7)
    expected: Dict[str, str] = {}
    for i in range(1000):
        priority = rng.choice(["P0", "P1", "P2", "P2"])
        tid, created = await producer.escalate(ticket(f"c{i}", priority, "safety" if priority == "P0" else "request_human"))
        assert created
        expected[tid] = priority

    claims: List[tuple[int, str, str]] = []

    async def agent(n: int) -> None:
        q = HandoffQueue.from_url(redis_url, max_chats=3)
        try:
            while True:
                try:
                    got = await q.claim_next(f"a{n}", f"坐席{n}", ["safety"])
                except QueueEmpty:
                    return
                claims.append((got.seq, got.ticket_id, f"a{n}"))
                await asyncio.sleep(0)
                await q.resolve(got.ticket_id, f"a{n}")
        finally:
            await q.close()

    await asyncio.gather(*(agent(n) for n in range(20)))

    claimed = Counter(tid for _, tid, _ in claims)
    assert set(claimed) == set(expected), "a ticket was lost or invented"
    assert max(claimed.values()) == 1, "a ticket was claimed twice"
    assert await producer.redis.zcard(keys.QUEUE) == 0
    order = [tid for _, tid, _ in sorted(claims)]
    scores = [int((await producer.ticket(tid))["score"]) for tid in order]
    assert scores == sorted(scores), "claims did not follow priority then FIFO order"
    first_non_p0 = next(i for i, tid in enumerate(order) if expected[tid] != "P0")
    assert all(expected[tid] == "P0" for tid in order[:first_non_p0])
    assert all(expected[tid] != "P0" for tid in order[first_non_p0:])
    assert len({agent for _, _, agent in claims}) > 1, "only one agent ever won"
    await producer.close()


async def test_only_one_agent_wins_the_same_ticket(queue: HandoffQueue) -> None:
    tid, _ = await queue.escalate(ticket("c1"))
    results = await asyncio.gather(
        *(queue.claim(tid, f"a{i}", "坐席", []) for i in range(20)), return_exceptions=True
    )
    winners = [r for r in results if not isinstance(r, Exception)]
    assert len(winners) == 1
    assert all(isinstance(r, AlreadyClaimed) for r in results if isinstance(r, Exception))


async def test_agent_cannot_exceed_max_concurrent_chats(queue: HandoffQueue) -> None:
    for i in range(4):
        await queue.escalate(ticket(f"c{i}"))
    for _ in range(3):
        await queue.claim_next("a1", "小王", [])
    with pytest.raises(CapacityReached):
        await queue.claim_next("a1", "小王", [])
    assert await queue.redis.zcard(keys.QUEUE) == 1


async def test_expired_lease_returns_ticket_to_its_old_place(redis_url: str) -> None:
    q = HandoffQueue.from_url(redis_url, lease_seconds=2)
    first, _ = await q.escalate(ticket("c1"))
    await asyncio.sleep(0.01)
    second, _ = await q.escalate(ticket("c2"))
    await q.claim(first, "a1", "小王", [])
    await q.append("c1", "user", "还在吗", "还在吗")
    assert await q.position(second) == 1
    await asyncio.sleep(2.1)
    assert await q.reap() == [first]
    assert await q.position(first) == 1, "the ticket went to the end of the line instead of its old place"
    assert await q.position(second) == 2
    with pytest.raises(LeaseExpired):
        await q.renew(first, "a1")
    assert [m.text for m in await q.transcript("c1")] == ["还在吗"]
    assert await q.conversation_state("c1") == ("waiting", first)
    assert (await q.audit_log(first))[-1]["action"] == "lease_expired"
    await q.close()


async def test_renewed_lease_is_not_reaped(redis_url: str) -> None:
    q = HandoffQueue.from_url(redis_url, lease_seconds=3)
    tid, _ = await q.escalate(ticket("c1"))
    await q.claim(tid, "a1", "小王", [])
    for _ in range(4):
        await asyncio.sleep(1.0)
        await q.renew(tid, "a1")
        assert await q.reap() == []
    assert (await q.ticket(tid))["owner"] == "a1"
    await q.close()


async def test_p0_goes_to_safety_agents_when_one_is_online(queue: HandoffQueue) -> None:
    p2, _ = await queue.escalate(ticket("c1", "P2"))
    p0, _ = await queue.escalate(ticket("c2", "P0", "safety"))
    await queue.touch_agent("safe1", ["safety"])
    got = await queue.claim_next("gen1", "小李", ["general"])
    assert got.ticket_id == p2, "a general agent took a safety ticket while a safety agent was online"
    assert (await queue.claim_next("safe1", "小王", ["safety"])).ticket_id == p0


async def test_p0_goes_to_anyone_when_no_safety_agent_is_online(queue: HandoffQueue) -> None:
    await queue.escalate(ticket("c1", "P2"))
    p0, _ = await queue.escalate(ticket("c2", "P0", "safety"))
    assert (await queue.claim_next("gen1", "小李", ["general"])).ticket_id == p0


async def test_same_millisecond_arrivals_keep_their_order(redis_url: str) -> None:
    """Customers escalating in one millisecond are served in arrival order, not by ticket id."""
    q = HandoffQueue.from_url(redis_url, clock=lambda: 1_700_000_000_000)
    try:
        tids = [(await q.escalate(ticket(f"same{i}")))[0] for i in range(20)]
        assert [await q.position(t) for t in tids] == list(range(1, 21))
        assert await q.bump(tids[-1], "P1")
        assert await q.position(tids[-1]) == 1
        assert [(await q.claim_next("gen1", "小李", ["general"])).ticket_id for _ in range(3)] == [tids[-1], tids[0], tids[1]]
    finally:
        await q.close()


async def test_transfer_keeps_place_and_history(queue: HandoffQueue) -> None:
    first, _ = await queue.escalate(ticket("c1", transcript=[Message("user", "我要退款", "我要退款", 1)]))
    second, _ = await queue.escalate(ticket("c2"))
    await queue.claim(first, "gen1", "小李", [])
    await queue.touch_agent("gen2", ["refund"])
    await queue.transfer(first, "gen1", skill="refund")
    assert await queue.position(first) == 1
    with pytest.raises(NotOwner):
        await queue.transfer(first, "gen1", to_agent="gen2")
    # a refund specialist is online, so the ticket waits for them
    assert (await queue.claim_next("gen3", "小赵", ["general"])).ticket_id == second
    assert (await queue.claim_next("gen2", "小张", ["refund"])).ticket_id == first
    assert [m.text for m in await queue.transcript("c1")] == ["我要退款"]
    actions = [e["action"] for e in await queue.audit_log(first)]
    assert actions == ["escalate", "claim", "transfer", "claim"]


async def test_safety_message_bumps_a_waiting_ticket_to_the_front(queue: HandoffQueue) -> None:
    await queue.escalate(ticket("c1"))
    late, _ = await queue.escalate(ticket("c2"))
    assert await queue.position(late) == 2
    assert await queue.bump(late, "P0")
    assert await queue.position(late) == 1
    assert (await queue.ticket(late))["priority"] == "P0"


async def test_escalating_twice_keeps_one_ticket(queue: HandoffQueue) -> None:
    tid, created = await queue.escalate(ticket("c1", escalation_id="e" * 16))
    again, created_again = await queue.escalate(ticket("c1", escalation_id="e" * 16))
    assert created and not created_again and tid == again
    assert await queue.redis.zcard(keys.QUEUE) == 1


async def test_leaving_the_queue_removes_the_ticket(queue: HandoffQueue) -> None:
    tid, _ = await queue.escalate(ticket("c1"))
    other, _ = await queue.escalate(ticket("c2"))
    await queue.leave(tid)
    assert await queue.conversation_state("c1") is None
    assert await queue.position(other) == 1


async def test_estimated_wait_grows_with_position(queue: HandoffQueue) -> None:
    await queue.touch_agent("a1", [])
    await queue.redis.lpush(keys.HANDLE_TIMES, *([4 * 60_000] * 10))
    assert await queue.estimated_wait_minutes(1) == 2  # 4 min per chat, 3 chats at a time
    assert await queue.estimated_wait_minutes(9) == 12


async def test_everything_survives_a_redis_restart(redis_server: EmbeddedRedis, redis_url: str) -> None:
    q = HandoffQueue.from_url(redis_url, lease_seconds=60)
    waiting, _ = await q.escalate(ticket("c1", transcript=[Message("user", "司机绕路了", "司机绕路了", 1)]))
    held, _ = await q.escalate(ticket("c2", "P1", "anger"))
    await q.claim(held, "a1", "小王", [])
    await q.append("c2", "user", "快点处理", "快点处理")
    lease_before = await q.redis.zscore(keys.LEASES, held)
    await asyncio.sleep(1.2)  # appendfsync everysec

    redis_server.restart()

    await q.redis.connection_pool.disconnect()
    assert await q.position(waiting) == 1
    assert (await q.ticket(held))["owner"] == "a1"
    assert await q.redis.zscore(keys.LEASES, held) == lease_before
    assert [m.text for m in await q.transcript("c2")] == ["快点处理"]
    assert [m.text for m in await q.transcript("c1")] == ["司机绕路了"]
    await q.renew(held, "a1")  # scripts are reloaded transparently
    assert await q.conversation_state("c2") == ("active", held)
    await q.close()


async def test_redis_down_is_reported_as_queue_unavailable(redis_server: EmbeddedRedis) -> None:
    from bot.runner.redis_server import free_port

    q = HandoffQueue.from_url(f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(QueueUnavailable):
        await q.escalate(ticket("c1"))
    with pytest.raises(QueueUnavailable):
        await q.conversation_state("c1")
    await q.close()
