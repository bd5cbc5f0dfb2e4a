"""The plain graph runner (bot/dialogue/graph_runner.py) gives exactly what Rasa's dask runner gives."""
from __future__ import annotations

from typing import Any, Dict, List, Text

import pytest
from rasa.engine.exceptions import GraphComponentException, GraphRunError
from rasa.engine.graph import ExecutionContext, GraphComponent, GraphNodeHook, GraphSchema, SchemaNode
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.engine.storage.local_model_storage import LocalModelStorage

from bench.micro_runner import compare, no_prediction_cache, steps
from bot.dialogue.graph_runner import PlainGraphRunner
from tests.model import agent

#: generated conversations (bench/conversations.py: all five flows, several wordings each)
SEEDS = range(25)


@pytest.fixture(scope="module")
def runners() -> Any:
    loaded = agent().processor.graph_runner  # Rasa's runner, or ours if speedups.install() ran before the load
    dask_runner = DaskGraphRunner.__new__(DaskGraphRunner)  # Rasa's run() over the same loaded nodes
    dask_runner.__dict__.update({k: v for k, v in loaded.__dict__.items() if k != "_plans"})
    try:
        yield dask_runner, PlainGraphRunner.from_runner(loaded)
    finally:
        agent().processor.graph_runner = loaded


def test_every_node_output_is_the_same_over_generated_conversations(runners: Any) -> None:
    dask_runner, plain = runners
    runs, differences = compare(agent().processor, dask_runner, plain, SEEDS)
    assert runs > 200, "the conversations should parse and predict a few hundred times"
    assert differences == []


class Recorder(GraphNodeHook):
    """Writes down which node runs, in order."""

    def __init__(self) -> None:
        self.names: List[Text] = []

    def on_before_node(self, node_name: Text, execution_context: Any, config: Dict[Text, Any],
                       received_inputs: Dict[Text, Any]) -> Dict:
        self.names.append(node_name)
        return {}

    def on_after_node(self, node_name: Text, execution_context: Any, config: Dict[Text, Any],
                      output: Any, input_hook_data: Dict) -> None:
        return None


def test_the_nodes_run_in_dasks_order(runners: Any) -> None:
    dask_runner, plain = runners
    recorder = Recorder()
    nodes = dask_runner._instantiated_nodes.values()
    for node in nodes:
        node._hooks.append(recorder)
    try:
        with no_prediction_cache(dask_runner):
            for _, inputs, targets in steps(agent().processor, range(3)):
                recorder.names.clear()
                dask_runner.run(inputs=inputs, targets=targets)
                by_dask = list(recorder.names)
                recorder.names.clear()
                plain.run(inputs=inputs, targets=targets)
                assert recorder.names == by_dask and len(by_dask) > 3
    finally:
        for node in nodes:
            node._hooks.remove(recorder)


class Echo(GraphComponent):
    """A node that returns its inputs, or fails when told to."""

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: Any, resource: Any, execution_context: Any) -> "Echo":
        return cls()

    def echo(self, **inputs: Any) -> Any:
        if inputs.get("value") == "fail":
            raise RuntimeError("told to fail")
        return sorted(inputs.items())


def _schema() -> GraphSchema:
    def node(**needs: str) -> SchemaNode:
        return SchemaNode(needs=needs, uses=Echo, constructor_name="create", fn="echo", config={})

    return GraphSchema({
        "a": node(value="__input__"),
        "b": node(value="__input__"),
        "c": node(left="a", right="b"),
        "unused": node(value="a"),
        "orphan": node(value="__input__", missing="not_a_node"),
    })


@pytest.fixture()
def small(tmp_path: Any) -> Any:
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(_schema(), "test")
    return DaskGraphRunner(_schema(), storage, context), PlainGraphRunner(_schema(), storage, context)


def test_a_small_graph_gives_the_same_results(small: Any) -> None:
    dask_runner, plain = small
    for targets in (["c"], ["a", "b"], ["unused", "c"], ["c", "a"]):
        expected = dask_runner.run(inputs={"__input__": 7}, targets=targets)
        assert plain.run(inputs={"__input__": 7}, targets=targets) == expected
    assert plain.run(inputs={"__input__": 7}, targets=["c"])["c"] == [("left", [("value", 7)]), ("right", [("value", 7)])]


def test_an_input_no_node_provides_fails_as_under_dask(small: Any) -> None:
    for runner in small:
        with pytest.raises(GraphRunError, match="Missing input to run node 'orphan'"):
            runner.run(inputs={"__input__": 7}, targets=["orphan"])


def test_a_failing_node_fails_the_same_way(small: Any) -> None:
    for runner in small:
        with pytest.raises(GraphComponentException, match="Error running graph component for node a"):
            runner.run(inputs={"__input__": "fail"}, targets=["c"])


def test_an_input_named_like_a_node_is_refused_as_rasa_refuses_it(small: Any) -> None:
    for runner in small:
        with pytest.raises(GraphRunError, match="clashes with a node name"):
            runner.run(inputs={"__input__": "a"}, targets=["c"])
