"""python-socketio's Redis manager, connected the way every other client is (core/redis_url.py).

python-socketio 5.8 (pinned) builds its client with ``Redis.from_url``, which
knows ``redis://``, ``rediss://`` and ``unix://`` but not Sentinel. This
subclass only replaces that one connect step with ``RedisSettings.async_client``,
so the Rasa servers' socket.io (bot/channels/) and the bridges' emitter
(handoff/app.py) follow a Sentinel failover like the queue and the stores do.
Every Rasa server and every bridge must use the same Redis and the same
channel name (the default ``socketio``): an emit by any bridge then reaches a
customer's socket on whichever Rasa server holds it.
"""
from __future__ import annotations

from typing import Any

import socketio

from core.redis_url import RedisSettings


class KefuRedisManager(socketio.AsyncRedisManager):  # type: ignore[misc,name-defined]
    """``AsyncRedisManager`` for any REDIS_URL form core/redis_url.py accepts (Sentinel included)."""

    def __init__(self, url: str, **kwargs: Any) -> None:
        self.settings = RedisSettings.parse(url)
        super().__init__(url, **kwargs)

    def _redis_connect(self) -> None:
        # called by the base class at start and after a failed publish / listen: a fresh
        # client, which for Sentinel asks the sentinels where the master is now
        self.redis = self.settings.async_client(**self.redis_options)
        self.pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
