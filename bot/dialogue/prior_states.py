"""The dialogue states of a conversation, built once and extended, not rebuilt for every policy.

Every policy asks for the conversation's states before every action it
predicts (``tracker.past_states`` → ``Domain.states_for_tracker_history``):
RulePolicy two or three times, Memoization and TED once each, so about nine
times per customer message. Each call replays the whole conversation into a
new tracker and featurises the state before every action taken, although
only the last few events are new. That was most of the dialogue
prediction's time; ``python -m bench.prior_states`` times both ways (half
the time per predicted action with the steps kept).

:func:`states_for_tracker_history` gives what Rasa's method gives, built from
per-conversation steps it keeps: the state before each action taken, with
what the rule-only filtering reads (the turn's ``hide_rule_turn``, the
follow-up action, whether the action was the active loop's, the previous
action). The steps are a pure function of the conversation's *applied*
events and the domain, so they are reused while the tracker's applied events
begin with the very event objects (``is``, not ``==``) they were built from,
and only the new events are replayed. Anything else (a rewind, a restart, a
session start, another model's domain, other slots) rebuilds them from the
first event, as Rasa does. The filtering for rule-only turns runs on every
call exactly as in Rasa, on copies, so no caller can change a kept step.
It calls the domain's own helpers for it (``_remove_rule_only_features`` and
the others of Rasa 3.6.21, pinned); tests/foundation/test_prior_states.py
checks the result against Rasa's method on every call the policies make.

Kept: the ``KEFU_STATES_CACHE`` (default 256) conversations last asked for
in this process, least recently used out first; ``0`` keeps Rasa's method.
The Rasa server runs predictions on its event loop, one at a time; a lock
keeps the table consistent anyway. Rule trackers (training) are never kept.
"""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Text, Tuple

from rasa.shared.core.constants import PREVIOUS_ACTION
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.events import ActionExecuted, Event
from rasa.shared.core.trackers import DialogueStateTracker

SIZE_ENV = "KEFU_STATES_CACHE"
DEFAULT_SIZE = 256

_original: Optional[Callable[..., List[State]]] = None


@dataclass(frozen=True)
class Step:
    """What ``states_for_tracker_history`` reads of one prior tracker (the one before an action)."""

    state: State
    hide_rule_turn: bool
    followup_action: Optional[Text]
    loop_action: bool  # the action taken was the active loop's (tr.latest_action_name == tr.active_loop_name)
    prev_action: Optional[Dict[Text, Text]]


@dataclass
class Entry:
    """One conversation's steps and the replay tracker they were taken from."""

    domain: Domain
    omit_unset_slots: bool
    slots: Tuple[Tuple[Text, Any], ...]
    replay: DialogueStateTracker
    events: List[Event] = field(default_factory=list)
    steps: List[Step] = field(default_factory=list)
    #: the step after the last event (the current state), until an event is added
    final: Optional[Step] = None


def _slots(tracker: DialogueStateTracker) -> Tuple[Tuple[Text, Any], ...]:
    # what init_copy gives the replay: each slot's type and initial value
    return tuple((name, type(slot), repr(slot.initial_value)) for name, slot in tracker.slots.items())


def _step(domain: Domain, tracker: DialogueStateTracker, omit_unset_slots: bool, hide_rule_turn: bool) -> Step:
    return Step(
        state=domain.get_active_state(tracker, omit_unset_slots=omit_unset_slots),
        hide_rule_turn=hide_rule_turn,
        followup_action=tracker.followup_action,
        loop_action=tracker.latest_action_name == tracker.active_loop_name,
        prev_action=domain._get_prev_action_sub_state(tracker),
    )


def _copy(state: State) -> State:
    # sub-state values are strings and tuples: copying the two levels of dicts is a deep copy
    return {kind: dict(sub) for kind, sub in state.items()}


class PriorStates:
    """The table of kept steps, by conversation."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: "OrderedDict[Tuple[Text, bool], Entry]" = OrderedDict()
        self._lock = threading.Lock()
        self.extended = 0
        self.rebuilt = 0

    def steps(self, domain: Domain, tracker: DialogueStateTracker, omit_unset_slots: bool) -> List[Step]:
        """The steps of ``tracker``'s applied events, the last one (after every event) included."""
        applied = tracker.applied_events()
        key = (tracker.sender_id, omit_unset_slots)
        with self._lock:
            entry = self._entries.pop(key, None)
            if entry is None or not self._extends(entry, domain, tracker, applied):
                entry = Entry(domain, omit_unset_slots, _slots(tracker), tracker.init_copy())
                self.rebuilt += 1
            else:
                self.extended += 1
            for event in applied[len(entry.events):]:
                if isinstance(event, ActionExecuted):
                    entry.steps.append(_step(domain, entry.replay, omit_unset_slots, event.hide_rule_turn))
                entry.replay.update(event)
                entry.events.append(event)
                entry.final = None
            if entry.final is None:  # policies ask several times between two events: featurise the state once
                entry.final = _step(domain, entry.replay, omit_unset_slots, False)
            self._entries[key] = entry
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
            return [*entry.steps, entry.final]

    @staticmethod
    def _extends(entry: Entry, domain: Domain, tracker: DialogueStateTracker, applied: List[Event]) -> bool:
        if entry.domain is not domain or len(applied) < len(entry.events) or entry.slots != _slots(tracker):
            return False
        return all(kept is event for kept, event in zip(entry.events, applied))


def states(table: PriorStates, domain: Domain, tracker: DialogueStateTracker, omit_unset_slots: bool = False,
           ignore_rule_only_turns: bool = False, rule_only_data: Optional[Dict[Text, Any]] = None) -> List[State]:
    """Rasa 3.6's ``Domain.states_for_tracker_history``, line for line, over the kept steps."""
    out: List[State] = []
    last_ml_action_sub_state = None
    turn_was_hidden = False
    for step in table.steps(domain, tracker, omit_unset_slots):
        if ignore_rule_only_turns:
            if not turn_was_hidden:
                last_ml_action_sub_state = step.prev_action
            if not step.followup_action and not step.loop_action:
                turn_was_hidden = step.hide_rule_turn
            if turn_was_hidden:
                continue
        state = _copy(step.state)
        if ignore_rule_only_turns:
            domain._remove_rule_only_features(state, rule_only_data)
            if out:
                domain._substitute_rule_only_user_input(state, out[-1])
            if last_ml_action_sub_state:
                state[PREVIOUS_ACTION] = dict(last_ml_action_sub_state)
        out.append(domain._clean_state(state))
    return out


_table: Optional[PriorStates] = None


def states_for_tracker_history(self: Domain, tracker: DialogueStateTracker, omit_unset_slots: bool = False,
                               ignore_rule_only_turns: bool = False,
                               rule_only_data: Optional[Dict[Text, Any]] = None) -> List[State]:
    """What replaces ``Domain.states_for_tracker_history`` once installed."""
    assert _original is not None and _table is not None
    if tracker.is_rule_tracker:
        return _original(self, tracker, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
    return states(_table, self, tracker, omit_unset_slots, ignore_rule_only_turns, rule_only_data)


def size_from_env() -> int:
    """``KEFU_STATES_CACHE``: conversations kept (0 = Rasa's method); a bad value fails at start."""
    raw = os.environ.get(SIZE_ENV, str(DEFAULT_SIZE)).strip()
    try:
        size = int(raw)
    except ValueError:
        raise ValueError(f"{SIZE_ENV}={raw!r}: expected a whole number of conversations (0 turns it off)") from None
    if size < 0:
        raise ValueError(f"{SIZE_ENV}={raw!r}: expected 0 or more")
    return size


def install(size: Optional[int] = None) -> Optional[PriorStates]:
    """Replace Rasa's method (idempotent); the table, or None when the setting is 0."""
    global _original, _table
    if _table is not None:
        return _table
    size = size_from_env() if size is None else size
    if size <= 0:
        return None
    _original = Domain.states_for_tracker_history
    _table = PriorStates(size)
    Domain.states_for_tracker_history = states_for_tracker_history  # type: ignore[method-assign]
    return _table


def uninstall() -> None:
    """Rasa's method again (tests)."""
    global _original, _table
    if _original is not None:
        Domain.states_for_tracker_history = _original  # type: ignore[method-assign]
    _original = _table = None
