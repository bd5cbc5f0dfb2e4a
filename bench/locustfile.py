"""Simulated customers for `make bench`: multi-turn conversations with real
order look-ups (bench/conversations.py: generated, varied wording and
numbers), through one channel (BENCH_PATH), never one repeated greeting.

Each simulated customer is its own conversation (sender id); every turn is a
request named after its step so the report shows where time goes. A turn
fails on a non-200 answer, or when the bot says nothing.

The customers use locust's FastHttpUser (geventhttpclient): the load
generator shares the 2 cores with the stack it measures, and this client
costs about half the CPU per turn of the requests-based HttpUser (0.63
against 1.18 ms per turn at 10 customers, start-up included, from the
processes' CPU times, 2026-12-04), CPU the stack gets instead. ``BENCH_CLIENT=requests`` uses
HttpUser.
"""
from __future__ import annotations

import itertools
import os
import sys
import uuid

from locust import FastHttpUser, HttpUser, between, task

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conversations import conversation  # noqa: E402

PATH = os.environ.get("BENCH_PATH", "/webhooks/rest/webhook")
#: each locust run draws its own conversations (bench/run.py sets BENCH_SEED per run)
_counter = itertools.count(int(os.environ.get("BENCH_SEED", "1000000")))


_BASE = FastHttpUser if os.environ.get("BENCH_CLIENT", "fast") == "fast" else HttpUser


class Customer(_BASE):  # type: ignore[valid-type,misc]
    wait_time = between(0.0, 0.05)

    @task
    def conversation(self) -> None:
        sender = f"bench-{uuid.uuid4().hex[:12]}"
        script = conversation(next(_counter))
        for index, (step, text) in enumerate(script):
            # a conversation is one customer on their own device: its last turn closes the connection, so
            # the next customer connects anew (to whichever Sanic worker accepts first), as real customers do
            headers = {"Connection": "close"} if index == len(script) - 1 else None
            with self.client.post(PATH, json={"sender": sender, "message": text}, name=step, headers=headers,
                                  catch_response=True) as resp:
                if resp.status_code != 200:
                    resp.failure(f"HTTP {resp.status_code}")
                    return
                try:
                    replies = resp.json()
                except ValueError:
                    resp.failure("not JSON")
                    return
                if not isinstance(replies, list) or not replies:
                    resp.failure("no reply from the bot")
