"""Shared fixtures: a real redis-server on a free port, never a fake."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import redis

from bot.runner.redis_server import EmbeddedRedis

ROOT = Path(__file__).resolve().parent.parent


async def eventually(check: Callable[[], Any], message: str, timeout: float = 10.0) -> Any:
    """Poll ``check`` until it returns something truthy.

    For effects that cross a thread, a process or a socket: a fixed sleep
    is either slow or flaky on a loaded 2-core CI machine; polling is neither.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        assert time.monotonic() < deadline, message
        await asyncio.sleep(0.05)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(data_dir=tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture()
def redis_url(redis_server: EmbeddedRedis) -> Iterator[str]:
    """A clean database for each test on the shared server."""
    if redis_server.process is None or not redis_server.ping():
        redis_server.start()
    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    client.close()
    yield redis_server.url


@pytest.fixture()
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()
