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

The store also keeps the tracker it saved last for each recent conversation
(bot/stores/tracker_cache.py), with a version counter in Redis beside the
tracker: the next turn of the conversation gets that object back after one
small read instead of the whole JSON and a replay of every event, and saves
it with one check-then-write script (bot/stores/lua/tracker_save_if.lua)
instead of reading the stored tracker back. Anything the counter does not
vouch for is read from Redis exactly as Rasa reads it.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Optional, Text

from rasa.core.tracker_store import RedisTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.constants import ACTION_SESSION_START_NAME
from rasa.shared.core.trackers import DialogueStateTracker, get_trackers_for_conversation_sessions

from bot.stores.tracker_cache import READ_ATTR, TrackerCache, configured_size, mark, read_at
from core import keys, lua
from core.redis_url import RedisSettings


def single_session(tracker: DialogueStateTracker) -> bool:
    """Whether Rasa's last-session split would give back the whole tracker.

    Rasa splits the events before each ``action_session_start``; one piece
    (no session start, or only one, as the very first event) is the tracker
    itself.
    """
    starts = [i for i, event in enumerate(tracker.events)
              if isinstance(event, ActionExecuted) and event.action_name == ACTION_SESSION_START_NAME]
    return not starts or starts == [0]


class KefuRedisTrackerStore(RedisTrackerStore):
    """``endpoints.yml``: ``tracker_store: {type: bot.stores.tracker_store.KefuRedisTrackerStore, ...}``."""

    fast_saves = 0
    merged_saves = 0
    #: saves by the check-then-write script (no read of the stored tracker)
    versioned_saves = 0

    def __init__(self, domain: Domain, host: str = "localhost", port: int = 6379, db: int = 0,
                 password: Optional[str] = None, **kwargs: Any) -> None:
        super().__init__(domain, host=host, port=port, db=db, password=password, **kwargs)
        # REDIS_URL when set (TLS, ACL user, Sentinel: core/redis_url.py), else endpoints.yml's
        # host/port/db/password; Rasa's own client knows neither Sentinel nor the URL forms
        self.red = RedisSettings.from_env(host=host, port=int(port), db=int(db or 0),
                                          password=password or None).client(decode_responses=True)
        self.cache = TrackerCache(configured_size())
        self._cached_for: Optional[Domain] = None
        self._save_if = self.red.register_script(lua.source(__file__, "tracker_save_if"))

    def _version_key(self, sender_id: Text) -> str:
        return keys.tracker_version(self.key_prefix, sender_id)

    # ---- reading ------------------------------------------------------------------

    async def _retrieve(self, sender_id: Text, fetch_all_sessions: bool) -> Optional[DialogueStateTracker]:
        cached = self._from_cache(sender_id, fetch_all_sessions)
        if cached is not None:
            return cached
        # Rasa's read, with the version read in the same transaction
        pipe = self.red.pipeline(transaction=True)
        pipe.get(self.key_prefix + sender_id)
        pipe.get(self._version_key(sender_id))
        stored, version = pipe.execute()
        if stored is None:
            return None
        tracker = self.deserialise_tracker(sender_id, stored)
        if tracker is None:
            return None
        whole = True
        if not fetch_all_sessions:
            sessions = get_trackers_for_conversation_sessions(tracker)
            if len(sessions) > 1:
                tracker, whole = sessions[-1], False
        return mark(tracker, int(version), whole) if version is not None else tracker

    def _from_cache(self, sender_id: Text, fetch_all_sessions: bool) -> Optional[DialogueStateTracker]:
        """The tracker this process saved last, if Redis's counter says it is still the stored one."""
        if self.cache.size <= 0:
            return None
        entry = self._current_cache().peek(sender_id)
        if entry is None:
            return None
        pipe = self.red.pipeline(transaction=False)
        pipe.get(self._version_key(sender_id))
        pipe.exists(self.key_prefix + sender_id)
        version, exists = pipe.execute()
        if version is None or not exists or int(version) != entry.version:
            self.cache.miss(sender_id)  # written by another process, expired or deleted
            return None
        if not fetch_all_sessions and not single_session(entry.tracker):
            # the last session is a new tracker; the whole one stays cached
            self.cache.hit()
            return mark(get_trackers_for_conversation_sessions(entry.tracker)[-1], entry.version, whole=False)
        tracker = self.cache.take(sender_id, entry.version)
        return mark(tracker, entry.version, whole=True) if tracker is not None else None

    # ---- writing ------------------------------------------------------------------

    async def save(self, tracker: DialogueStateTracker, timeout: Optional[float] = None) -> None:
        await self.stream_events(tracker)
        if not timeout and self.record_exp:
            timeout = self.record_exp
        sender = tracker.sender_id
        key = self.key_prefix + sender
        dialogue: Dict[str, Any] = tracker.as_dialogue().as_dict()
        at = read_at(tracker)
        if (at is not None and at.whole and tracker._max_event_history is None
                and len(tracker.events) >= at.n_events):
            # stored = exactly the events this tracker had at version `at`, and it only grew since
            version = self._save_if(keys=[key, self._version_key(sender)],
                                    args=[str(at.version), json.dumps(dialogue), int(timeout or 0)])
            if version is not None:
                self.versioned_saves += 1
                self._remember(tracker, int(version))
                return
        stored = self.red.get(key)
        merged = stored is not None and not self._extends(stored, dialogue)
        if merged:
            prior = self.deserialise_tracker(sender, stored)
            if prior is not None:
                dialogue = self._merge_trackers(prior, tracker).as_dialogue().as_dict()
            self.merged_saves += 1
        else:
            self.fast_saves += 1
        pipe = self.red.pipeline(transaction=True)
        pipe.set(key, json.dumps(dialogue), ex=timeout)
        pipe.incr(self._version_key(sender))
        if timeout:
            pipe.expire(self._version_key(sender), int(timeout))
        else:
            pipe.persist(self._version_key(sender))
        version = pipe.execute()[1]
        if merged:  # what Redis holds is the merge, not this object
            setattr(tracker, READ_ATTR, None)
            self.cache.drop(sender)
        else:
            self._remember(tracker, int(version))

    def _remember(self, tracker: DialogueStateTracker, version: int) -> None:
        mark(tracker, version, whole=True)
        self._current_cache().put(tracker.sender_id, version, tracker)

    def _current_cache(self) -> TrackerCache:
        """The cache, emptied when the domain changed (a reloaded model: trackers are rebuilt with its slots)."""
        if self._cached_for is not self.domain:
            self.cache = TrackerCache(self.cache.size)
            self._cached_for = self.domain
        return self.cache

    @staticmethod
    def _extends(stored: Any, dialogue: Dict[str, Any]) -> bool:
        """Whether the new dialogue keeps every stored event, in order, at the start."""
        try:
            old = json.loads(stored).get("events") or []
        except (ValueError, AttributeError):
            return False
        new = dialogue.get("events") or []
        return len(new) >= len(old) and new[: len(old)] == old
