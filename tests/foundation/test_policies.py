"""The TED prediction cache (bot/dialogue/policies.py) on the trained model: same answers, fewer TensorFlow passes."""
from __future__ import annotations

import asyncio
from typing import Any, List

from rasa.core.policies.ted_policy import TEDPolicy
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.dialogue.policies import CachedTEDPolicy
from tests.model import agent

#: utterance-only turns: custom actions would need the action server
CONVERSATION = ["你好", "谢谢", "在吗", "再见"]


def ted_policy() -> CachedTEDPolicy:
    nodes = agent().processor.graph_runner._instantiated_nodes.values()
    found = [n._component for n in nodes if isinstance(getattr(n, "_component", None), CachedTEDPolicy)]
    assert len(found) == 1, "config.yml must use bot.dialogue.policies.CachedTEDPolicy"
    return found[0]


def bot_actions(sender: str) -> List[str]:
    """The actions the bot chose (replies have random variants; the choice does not)."""

    async def talk() -> List[str]:
        for text in CONVERSATION:
            await agent().handle_text(text, sender_id=sender)
        tracker = await agent().tracker_store.retrieve(sender)
        return [e.action_name for e in tracker.events if isinstance(e, ActionExecuted)]

    return asyncio.run(talk())


def tracker_after(*intents: str) -> DialogueStateTracker:
    tracker = DialogueStateTracker("cache-probe", agent().domain.slots)
    tracker.update(ActionExecuted("action_listen"))
    for intent in intents:
        tracker.update(UserUttered(intent, {"name": intent, "confidence": 1.0}))
    return tracker


def test_a_repeated_conversation_gets_the_same_replies_from_the_cache() -> None:
    ted = ted_policy()
    first = bot_actions("cache-a")
    hits_before = ted.cache_hits
    second = bot_actions("cache-b")
    assert "utter_greet" in first
    assert second == first, "a cached prediction changed what the bot does"
    assert ted.cache_hits > hits_before, "the second, identical conversation ran TensorFlow again"


def test_cached_prediction_equals_a_fresh_forward_pass() -> None:
    ted, domain = ted_policy(), agent().domain
    for intent in ("greet", "request_invoice", "request_human", "thank"):
        tracker = tracker_after(intent)
        ted.predict_action_probabilities(tracker, domain)  # fills the cache
        cached = ted.predict_action_probabilities(tracker, domain)
        fresh = TEDPolicy.predict_action_probabilities(ted, tracker, domain)
        assert max(abs(a - b) for a, b in zip(cached.probabilities, fresh.probabilities)) < 1e-6


def test_callers_cannot_corrupt_the_cache() -> None:
    ted, domain = ted_policy(), agent().domain
    tracker = tracker_after("greet")
    first: Any = ted.predict_action_probabilities(tracker, domain)
    best = max(range(len(first.probabilities)), key=first.probabilities.__getitem__)
    first.probabilities[best] = 0.0  # what the ensemble does to a rejected action
    again = ted.predict_action_probabilities(tracker, domain)
    assert again.probabilities[best] > 0.0


def test_the_cache_is_bounded() -> None:
    ted, domain = ted_policy(), agent().domain
    size = ted.config["prediction_cache_size"]
    try:
        ted.config["prediction_cache_size"] = 2
        for intent in ("greet", "thank", "goodbye", "request_invoice"):
            ted.predict_action_probabilities(tracker_after(intent), domain)
        assert len(ted._cache) == 2
    finally:
        ted.config["prediction_cache_size"] = size
