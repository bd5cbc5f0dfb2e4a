"""Micro-benchmark: what one conversation's tracker costs to rebuild from Redis and to keep in memory.

    .venv/bin/python -m bench.micro_tracker --conversations 10 --repeats 200

plays generated conversations (bench/conversations.py) through the trained
model with Kefu's custom actions in this process (the seeded demo database),
serialises each tracker as Rasa's RedisTrackerStore does, then for each
prints its events, the time ``TrackerStore.deserialise_tracker`` takes to
rebuild it (median of ``--repeats``: what Rasa pays on every turn without
bot/stores/tracker_cache.py) and the memory a rebuilt tracker holds
(tracemalloc over 20 copies kept alive: what the cache keeps per entry).
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import tracemalloc
from typing import Any, List, Optional, Tuple

from bench.conversations import conversation
from tests.model import in_process_actions, load

#: copies kept alive together for the memory figure
COPIES = 20


def played(agent: Any, seed: int) -> Any:
    """The tracker after conversation ``seed``, as the stack would have saved it."""
    sender = f"micro-tracker-{seed}"
    for _, text in conversation(seed):
        asyncio.run(agent.handle_text(text, sender_id=sender))
    return asyncio.run(agent.processor.get_tracker(sender))


def measure(store: Any, tracker: Any, repeats: int) -> Tuple[int, float, float]:
    """(events, ms per rebuild, KB per rebuilt tracker)."""
    serialised = store.serialise_tracker(tracker)
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        store.deserialise_tracker(tracker.sender_id, serialised)
        times.append(time.perf_counter() - began)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    kept = [store.deserialise_tracker(tracker.sender_id, serialised) for _ in range(COPIES)]
    held = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    del kept
    return len(tracker.events), 1000 * statistics.median(times), held / COPIES / 1024


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args(argv)
    agent = load(action_endpoint=in_process_actions())
    store = getattr(agent.tracker_store, "_tracker_store", agent.tracker_store)  # the InMemory store inside Rasa's FailSafe wrapper
    rows = []
    for seed in range(args.conversations):
        tracker = played(agent, seed)
        turns = sum(1 for event in tracker.events if type(event).__name__ == "UserUttered")
        events, ms, kb = measure(store, tracker, args.repeats)
        rows.append((events, ms, kb))
        print(f"conversation {seed}: {turns} turns, {events} events, rebuild {ms:.2f} ms, {kb:.0f} KB per tracker")
    per_event_ms = statistics.median(ms / events for events, ms, _ in rows)
    per_event_kb = statistics.median(kb / events for events, _, kb in rows)
    print(f"median per event: rebuild {1000 * per_event_ms:.1f} us, {per_event_kb:.2f} KB "
          f"(a 124-event tracker: {124 * per_event_ms:.1f} ms, {124 * per_event_kb:.0f} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
