"""Rasa's Redis tracker store without the full replay on every save.

``RedisTrackerStore.save`` in Rasa 3.6 reads the stored tracker back,
deserialises it (replaying every event), travels the new tracker back in time
(a second replay) and compares the two, so that a tracker holding only the
latest conversation session does not overwrite earlier sessions. Under load
that was about 12% of the Rasa server's CPU (bench/RESULTS.md), and it grows
with the length of the conversation.

Almost always the stored events are simply a prefix of the tracker being
saved (it was retrieved, a turn appended). That is checked on the JSON
(one ``json.loads``, a list comparison in C) and the tracker is written
directly; anything else (an earlier session, another writer's events) takes
Rasa's own merge. The stored format is Rasa's, byte for byte.
"""
from __future__ import annotations

import json
from typing import Any, Dict, Optional

from rasa.core.tracker_store import RedisTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from core.redis_url import RedisSettings


class KefuRedisTrackerStore(RedisTrackerStore):
    """``endpoints.yml``: ``tracker_store: {type: bot.stores.tracker_store.KefuRedisTrackerStore, ...}``."""

    fast_saves = 0
    merged_saves = 0

    def __init__(self, domain: Domain, host: str = "localhost", port: int = 6379, db: int = 0,
                 password: Optional[str] = None, **kwargs: Any) -> None:
        super().__init__(domain, host=host, port=port, db=db, password=password, **kwargs)
        # REDIS_URL when set (TLS, ACL user, Sentinel: core/redis_url.py), else endpoints.yml's
        # host/port/db/password; Rasa's own client knows neither Sentinel nor the URL forms
        self.red = RedisSettings.from_env(host=host, port=int(port), db=int(db or 0),
                                          password=password or None).client(decode_responses=True)

    async def save(self, tracker: DialogueStateTracker, timeout: Optional[float] = None) -> None:
        await self.stream_events(tracker)
        if not timeout and self.record_exp:
            timeout = self.record_exp
        key = self.key_prefix + tracker.sender_id
        dialogue: Dict[str, Any] = tracker.as_dialogue().as_dict()
        stored = self.red.get(key)
        if stored is not None and not self._extends(stored, dialogue):
            prior = self.deserialise_tracker(tracker.sender_id, stored)
            if prior is not None:
                dialogue = self._merge_trackers(prior, tracker).as_dialogue().as_dict()
            self.merged_saves += 1
        else:
            self.fast_saves += 1
        self.red.set(key, json.dumps(dialogue), ex=timeout)

    @staticmethod
    def _extends(stored: Any, dialogue: Dict[str, Any]) -> bool:
        """Whether the new dialogue keeps every stored event, in order, at the start."""
        try:
            old = json.loads(stored).get("events") or []
        except (ValueError, AttributeError):
            return False
        new = dialogue.get("events") or []
        return len(new) >= len(old) and new[: len(old)] == old
