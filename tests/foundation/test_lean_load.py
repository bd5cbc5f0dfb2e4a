"""A model loaded lean (bot/dialogue/lean_load.py) answers exactly as one loaded by Rasa."""
from __future__ import annotations

import asyncio
from typing import Any, Iterator, List, Tuple

import pytest
import yaml

from bench.micro_runner import compare, no_prediction_cache
from bot.dialogue import lean_load
from core.paths import ROOT
from tests.model import agent, load

#: generated conversations (bench/conversations.py: all five flows, several wordings each)
SEEDS = range(25)


@pytest.fixture(scope="module")
def agents() -> Iterator[Tuple[Any, Any]]:
    yield load(lean=False), agent()  # tests/model.py loads lean by default, as the Rasa server does


def tf_models(some_agent: Any) -> list:
    return [getattr(node._component, "model", None) for node in some_agent.processor.graph_runner._instantiated_nodes.values()
            if type(getattr(node._component, "model", None)).__name__ in ("DIET", "TED")]


def test_diet_and_ted_both_load(agents: Any) -> None:
    # a TensorFlow model that fails to load leaves its component without one, with only a log
    # line: TED's policy then predicts nothing (a restore error did exactly that once)
    reference, lean = agents
    assert sorted(type(model).__name__ for model in tf_models(lean)) == ["DIET", "TED"]
    assert sorted(type(model).__name__ for model in tf_models(reference)) == ["DIET", "TED"]
    # and the two loads did differ: Rasa's compiles with Adam, the lean one with the legacy SGD
    assert {type(model.optimizer).__name__ for model in tf_models(reference)} == {"Adam"}
    assert {type(model.optimizer).__name__ for model in tf_models(lean)} == {"SGD"}


def test_every_node_output_is_the_same_over_generated_conversations(agents: Any) -> None:
    reference, lean = agents
    runner = lean.processor.graph_runner
    with no_prediction_cache(runner):
        runs, differences = compare(reference.processor, reference.processor.graph_runner, runner, SEEDS)
    assert runs > 200, "the conversations should parse and predict a few hundred times"
    assert differences == []


def held_out_messages() -> List[str]:
    """The held-out evaluation messages (tests/nlu/*.yml): wordings the model was not trained on."""
    texts = []
    for path in sorted((ROOT / "tests" / "nlu").glob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            texts += [line.strip()[2:] for line in str(block.get("examples", "")).splitlines()
                      if line.strip().startswith("- ")]
    return texts


def test_held_out_messages_get_the_same_intent_ranking_to_the_last_digit(agents: Any) -> None:
    reference, lean = agents
    texts = held_out_messages()
    assert len(texts) > 400
    differing = []
    for text in texts:
        expected = asyncio.run(reference.parse_message(text))
        got = asyncio.run(lean.parse_message(text))
        if (got["intent"], got["intent_ranking"]) != (expected["intent"], expected["intent_ranking"]):
            differing.append(text)
    assert differing == []


def test_finetuning_keeps_rasas_own_load(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    monkeypatch.setattr(lean_load, "_rasa_load", classmethod(lambda cls, *args, **kwargs: calls.append(args[3]) or "rasa"))
    assert lean_load.load(object, "weights", None, None, True) == "rasa"
    assert calls == [True]
