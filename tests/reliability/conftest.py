"""A real stack for the reliability tests, and the means to break it.

``python -m bot.runner.stack`` on free ports with its own data dir (tests/security
does the same). Breaking is what an operator's bad day does: ``kill -9`` of
a child (os.kill with SIGKILL), and, to keep Redis or the action server
*down* for a while, ``SIGSTOP`` of the stack runner so that its supervisor
does not restart them yet (``SIGCONT`` lets it). Times are generous: the
machine running the tests is loaded.
"""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import time
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import httpx
import pytest
import redis

from bot.runner.stack_process import StackProcess
from core import keys
from tests.live import LiveStack

#: the seeded food order of tests/conversations/scenarios/food.yml (45 min late, 老街牛肉面)
LATE_ORDER = "2023112215300012345"


def wait_for(check: Callable[[], Any], timeout: float, step: float = 0.2) -> Optional[float]:
    """Seconds until ``check()`` is truthy, or None after ``timeout``."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            if check():
                return time.monotonic() - start
        except Exception:  # a service that is coming back refuses or resets: keep polling
            pass
        time.sleep(step)
    return None


@dataclass
class Live(LiveStack):
    turn_timeout = 90.0  # a turn may wait for a service coming back

    def redis(self) -> "redis.Redis[str]":
        return redis.Redis.from_url(self.stack.url("redis"), decode_responses=True,
                                    socket_timeout=2, socket_connect_timeout=2)

    @staticmethod
    def texts(reply: List[Dict[str, Any]]) -> str:
        return " | ".join(str(m.get("text") or "") for m in reply)

    def pid(self, name: str) -> int:
        found = self.stack.processes()
        assert name in found, f"no {name} child in {sorted(found)}"
        return int(found[name].pid)

    def kill(self, name: str) -> int:
        pid = self.pid(name)
        os.kill(pid, signal.SIGKILL)
        return pid

    @contextmanager
    def supervision_paused(self) -> Iterator[None]:
        """The runner stopped (SIGSTOP): a child killed meanwhile stays down until the block ends."""
        os.kill(self.stack.proc.pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(self.stack.proc.pid, signal.SIGCONT)

    def tickets(self, sender: str) -> List[Dict[str, str]]:
        client = self.redis()
        try:
            found = [client.hgetall(key) for key in client.scan_iter(keys.TICKET_PREFIX + "*")]
        finally:
            client.close()
        return [t for t in found if t.get("sender") == sender]

    def transcript(self, sender: str) -> List[Dict[str, Any]]:
        client = self.redis()
        try:
            rows = client.xrange(keys.transcript(sender))
        finally:
            client.close()
        return [dict(fields) for _, fields in rows]

    def outbox(self) -> List[Dict[str, Any]]:
        path = self.data / "handoff_outbox.sqlite3"
        if not path.exists():
            return []
        with closing(sqlite3.connect(path)) as conn:
            return [json.loads(p) for (p,) in conn.execute("SELECT payload FROM escalations ORDER BY id")]

    def answers(self) -> bool:
        """The stack answers a customer again (a non-empty reply on the Kefu REST channel)."""
        return bool(self.texts(self.say(f"probe-{time.monotonic_ns()}", "您好", timeout=20)).strip(" |"))

    def down(self, service: str) -> bool:
        """The service refuses (or does not answer) its health check."""
        try:
            return not self.healthy(service)
        except Exception:
            return True

    def healthy(self, service: str) -> bool:
        if service == "redis":
            client = self.redis()
            try:
                return bool(client.ping())
            finally:
                client.close()
        path = "/health" if service in ("actions", "handoff") else "/"
        return httpx.get(self.stack.url(service) + path, timeout=5).status_code == 200


def start_stack(data: Path, **extra: str) -> Live:
    env = StackProcess.free_env(data, KEFU_DEMO_AGENTS="1", **extra)
    return Live(StackProcess(env, timeout=400, follow=True), data)


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    # messages up to 10,000 characters reach Rasa (default 2,000): a transcript line over the
    # bridge's 4,000 is one of the escalations that used to be dropped
    running = start_stack(tmp_path_factory.mktemp("reliability"), KEFU_MAX_MESSAGE_CHARS="10000")
    yield running
    running.stack.stop()
