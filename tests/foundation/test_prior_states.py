"""bot/dialogue/prior_states.py gives exactly the states Rasa's ``Domain.states_for_tracker_history`` gives.

The first test plays the conversation suite's customer messages through the
trained model with the custom actions run (slots, forms, rule turns, as on
the stack) and checks *every* call Rasa's policies make, with their own
flags and rule-only data, against Rasa's method on the same tracker. The
others cover what the conversations do not: rewinds, restarts, a session
start, another domain, other slots, rule trackers, callers that change the
returned states.
"""
from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (ActionExecuted, ActiveLoop, Restarted, SessionStarted, SlotSet, UserUttered,
                                     UserUtteranceReverted)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.dialogue import prior_states
from bot.runner.redis_server import free_port
from core.paths import ROOT
from orders.service import SqliteOrderService, set_order_service
from tests.conversations.scenario import load_scenarios
from tests.model import in_process_actions, load

RASA = Domain.states_for_tracker_history


@pytest.fixture()
def table() -> Iterator[prior_states.PriorStates]:
    yield prior_states.PriorStates(64)


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The trained model with Kefu's actions, on its own demo orders, outbox and no bridge (nothing is shared)."""
    data: Path = tmp_path_factory.mktemp("prior-states")
    subprocess.run([sys.executable, "scripts/seed_orders.py", "--db", str(data / "orders.sqlite3")], cwd=ROOT, check=True,
                   capture_output=True)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("KEFU_DATA_DIR", str(data))
        env.setenv("KEFU_HANDOFF_URL", f"http://127.0.0.1:{free_port()}")  # refused: escalations go to the outbox
        set_order_service(SqliteOrderService(data / "orders.sqlite3"))
        try:
            yield load(action_endpoint=in_process_actions())
        finally:
            set_order_service(None)


def _conversations() -> List[Tuple[str, List[str]]]:
    return [(scenario.id, [t.say for t in scenario.turns if t.say is not None]) for scenario in load_scenarios()]


def test_every_call_of_rasas_policies_gets_rasas_states(agent: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    table = prior_states.PriorStates(256)
    calls: List[int] = [0]
    differences: List[str] = []
    flags_seen = set()

    def checked(self: Domain, tracker: DialogueStateTracker, omit_unset_slots: bool = False,
                ignore_rule_only_turns: bool = False, rule_only_data: Optional[Dict[str, Any]] = None) -> List[Any]:
        expected = RASA(self, tracker, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
        if not tracker.is_rule_tracker:
            calls[0] += 1
            flags_seen.add((omit_unset_slots, ignore_rule_only_turns, bool(rule_only_data)))
            got = prior_states.states(table, self, tracker, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
            if got != expected and len(differences) < 5:
                differences.append(f"{tracker.sender_id} after {len(tracker.events)} events: {got} != {expected}")
        return expected  # the conversation goes on with Rasa's states, so both see the same trackers

    monkeypatch.setattr(Domain, "states_for_tracker_history", checked)
    for sender, texts in _conversations():
        for text in texts:
            asyncio.run(agent.handle_message(UserMessage(text, CollectingOutputChannel(), sender)))
    assert not differences, differences
    assert calls[0] > 2000, calls[0]
    assert (False, True, True) in flags_seen  # TED and Memoization: rule-only turns hidden, with the rule data
    # the point of it: most calls extend what an earlier call built
    assert table.extended > 5 * table.rebuilt, (table.extended, table.rebuilt)


def _tracker(domain: Domain, events: List[Any], sender: str = "edge") -> DialogueStateTracker:
    return DialogueStateTracker.from_events(sender, events, domain.slots)


def _conversation(domain: Domain) -> List[Any]:
    slot = next(iter(domain.slots)).name
    loop = next(iter(domain.form_names))
    return [
        ActionExecuted("action_listen"),
        UserUttered("你好", {"name": "greet", "confidence": 1.0}),
        ActionExecuted("utter_greet", hide_rule_turn=True),
        ActionExecuted("action_listen"),
        UserUttered("我的外卖到哪了", {"name": "query_order_status", "confidence": 1.0},
                    [{"entity": "order_type", "value": "food", "start": 3, "end": 5}]),
        ActionExecuted(loop), ActiveLoop(loop), SlotSet(slot, "x"),
        ActionExecuted("action_listen"),
        UserUttered("2023112215300012345", {"name": "inform", "confidence": 1.0}),
        ActionExecuted(loop), ActiveLoop(None),
        ActionExecuted("action_order_status", hide_rule_turn=True),
        ActionExecuted("action_listen"),
    ]


def _all_flags(domain: Domain) -> List[Tuple[bool, bool, Optional[Dict[str, Any]]]]:
    rule_data = {"rule_only_slots": [next(iter(domain.slots)).name], "rule_only_loops": list(domain.form_names)}
    return list(itertools.product((False, True), (False, True), (None, rule_data)))


def _same(table: prior_states.PriorStates, domain: Domain, tracker: DialogueStateTracker) -> None:
    for omit, ignore, rule_data in _all_flags(domain):
        assert prior_states.states(table, domain, tracker, omit, ignore, rule_data) == RASA(
            domain, tracker, omit, ignore, rule_data), (len(tracker.events), omit, ignore, rule_data)


def test_growing_rewound_restarted_and_new_session_conversations(agent: Any, table: prior_states.PriorStates) -> None:
    domain = agent.domain
    events = _conversation(domain)
    for n in range(1, len(events) + 1):  # grows one event at a time, as a turn does
        _same(table, domain, _tracker(domain, events[:n]))
    extended = table.extended
    assert extended > table.rebuilt
    for tail in ([UserUtteranceReverted()], [Restarted(), ActionExecuted("action_listen")],
                 [SessionStarted(), ActionExecuted("action_listen"), UserUttered("在吗", {"name": "greet"})]):
        _same(table, domain, _tracker(domain, events + tail))
    # a conversation that lost its last events (the tracker read again from an older save)
    _same(table, domain, _tracker(domain, events[:5]))


def test_other_domain_or_slots_rebuild(agent: Any, table: prior_states.PriorStates) -> None:
    domain = agent.domain
    events = _conversation(domain)
    _same(table, domain, _tracker(domain, events))
    other = Domain.from_dict(domain.as_dict())
    rebuilt = table.rebuilt
    _same(table, other, _tracker(other, events))
    assert table.rebuilt == rebuilt + 2  # one table entry per omit_unset_slots setting
    fewer_slots = DialogueStateTracker.from_events("edge", events, list(domain.slots)[1:])
    assert prior_states.states(table, domain, fewer_slots) == RASA(domain, fewer_slots)


def test_a_caller_changing_the_states_changes_nothing_kept(agent: Any, table: prior_states.PriorStates) -> None:
    domain = agent.domain
    tracker = _tracker(domain, _conversation(domain))
    first = prior_states.states(table, domain, tracker, False, True, None)
    for state in first:
        for sub in state.values():
            sub.clear()
        state.clear()
    assert prior_states.states(table, domain, tracker, False, True, None) == RASA(domain, tracker, False, True, None)


def test_installed_rule_trackers_and_the_setting(agent: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    domain = agent.domain
    events = _conversation(domain)
    monkeypatch.setenv(prior_states.SIZE_ENV, "0")
    assert prior_states.install() is None and Domain.states_for_tracker_history is RASA
    monkeypatch.setenv(prior_states.SIZE_ENV, "many")
    with pytest.raises(ValueError, match=prior_states.SIZE_ENV):
        prior_states.install()
    monkeypatch.setenv(prior_states.SIZE_ENV, "8")
    table = prior_states.install()
    try:
        assert table is not None and table.size == 8 and prior_states.install() is table
        tracker = _tracker(domain, events)
        assert tracker.past_states(domain) == RASA(domain, tracker) and table.rebuilt == 1
        rule = DialogueStateTracker("rule", domain.slots, is_rule_tracker=True)
        for event in events:
            rule.update(event)
        assert rule.past_states(domain) == RASA(domain, rule) and table.rebuilt == 1  # not kept
        for n in range(20):  # bounded: the least recently used conversation goes first
            _tracker(domain, events, sender=f"c{n}").past_states(domain)
        assert len(table._entries) == 8
    finally:
        prior_states.uninstall()
    assert Domain.states_for_tracker_history is RASA
