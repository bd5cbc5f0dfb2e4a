"""The trackers this Rasa process saved last, trusted while Redis says nobody wrote since.

Every turn Rasa reads the whole conversation from Redis and rebuilds it,
replaying every event (``DialogueStateTracker.from_dict``): about 35 us per
event, 4.3 ms for a 10-turn conversation of 124 events (bench/micro_tracker.py), on the hot
path of every message. Under the lock store one Rasa process handles a
conversation's turn at a time, and usually the same process handled the
turn before: the tracker it saved is what it would read back.

So the store keeps the tracker object it saved, with the version that save
wrote (a counter beside the tracker that every write of Kefu's store bumps,
core/keys.tracker_version). Reading it again costs one round trip for the
counter; if the counter is unchanged, the saved object is handed out as it
is, never rebuilt. Another worker's write, an expiry or a deletion moves or
removes the counter and the store reads Redis as Rasa does.

An entry is handed out once (taken from the cache): whoever retrieved it may
append events and save, or drop it. A later retrieve then finds no entry and
reads Redis, so a tracker changed but never saved is never served again.
The entry also remembers how many events it had when saved: a tracker that
was changed after its save (events appended) is not served.
"""
from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass
from threading import Lock
from typing import Optional

from rasa.shared.core.trackers import DialogueStateTracker

SIZE_ENV = "KEFU_TRACKER_CACHE"
#: conversations kept per Rasa process: about the ones active in the last minutes of one worker
DEFAULT_SIZE = 200
#: the attribute a retrieved tracker carries: where it was read (see ReadAt)
READ_ATTR = "_kefu_read_at"


@dataclass(frozen=True)
class ReadAt:
    """What a tracker was when the store handed it out.

    ``version`` is the counter at the read; ``n_events`` its number of
    events then; ``whole`` whether it held every stored event (not just the
    last session), i.e. whether the stored events are exactly its first
    ``n_events``.
    """

    version: int
    n_events: int
    whole: bool


def read_at(tracker: DialogueStateTracker) -> Optional[ReadAt]:
    """Where ``tracker`` was read, if the store handed it out with a version."""
    found = getattr(tracker, READ_ATTR, None)
    return found if isinstance(found, ReadAt) else None


def mark(tracker: DialogueStateTracker, version: int, whole: bool) -> DialogueStateTracker:
    """Tag ``tracker`` with the version it was read (or saved) at."""
    setattr(tracker, READ_ATTR, ReadAt(version, len(tracker.events), whole))
    return tracker


def configured_size() -> int:
    """``KEFU_TRACKER_CACHE`` (conversations; 0 turns the cache off), default 200."""
    raw = os.environ.get(SIZE_ENV, "").strip()
    if not raw:
        return DEFAULT_SIZE
    try:
        return max(0, int(raw))
    except ValueError:
        raise ValueError(f"{SIZE_ENV} must be a number of conversations, not {raw!r}") from None


@dataclass
class Entry:
    version: int
    tracker: DialogueStateTracker
    n_events: int


class TrackerCache:
    """A bounded, least-recently-saved-first map of sender -> the tracker saved last."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: "OrderedDict[str, Entry]" = OrderedDict()
        self._lock = Lock()  # Sanic runs one loop per worker, but a store may be shared with threads
        self.hits = 0
        self.misses = 0

    def put(self, sender: str, version: int, tracker: DialogueStateTracker) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._entries.pop(sender, None)
            self._entries[sender] = Entry(version, tracker, len(tracker.events))
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def peek(self, sender: str) -> Optional[Entry]:
        """The entry, left in the cache (None if absent or changed since its save)."""
        with self._lock:
            entry = self._entries.get(sender)
        if entry is not None and len(entry.tracker.events) != entry.n_events:
            self.drop(sender)  # appended to after its save: what Redis holds is not this
            return None
        return entry

    def take(self, sender: str, version: int) -> Optional[DialogueStateTracker]:
        """The tracker saved at ``version``, handed out (removed); None counts a miss."""
        with self._lock:
            entry = self._entries.get(sender)
            if entry is not None and entry.version == version and len(entry.tracker.events) == entry.n_events:
                del self._entries[sender]
                self.hits += 1
                return entry.tracker
            self._entries.pop(sender, None)
            self.misses += 1
            return None

    def miss(self, sender: str) -> None:
        """Redis no longer holds what the entry holds (another writer, expiry, deletion): drop it, count a miss."""
        with self._lock:
            self._entries.pop(sender, None)
            self.misses += 1

    def hit(self) -> None:
        """Count a hit served from an entry left in the cache (a last session split off it)."""
        with self._lock:
            self.hits += 1

    def drop(self, sender: str) -> None:
        with self._lock:
            self._entries.pop(sender, None)

    def __len__(self) -> int:
        return len(self._entries)
