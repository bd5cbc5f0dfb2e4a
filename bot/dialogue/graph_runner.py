"""Rasa's inference graph run in dask's own order, without dask's scheduler.

Rasa 3.6 runs every NLU parse and every action prediction through
``DaskGraphRunner.run``: it recomputes the minimal sub-graph for the targets,
builds a dask graph and hands it to ``dask.get`` (the synchronous scheduler),
which orders the tasks, tracks dependencies, callbacks and a result cache on
every call. The policy graph has ~10 nodes and is run two or three times per
customer message, so that bookkeeping is a fixed cost per prediction that
buys nothing in one thread (bench/RESULTS.md: ~6% of the busy time, the gap
between ``get_sync`` and the nodes it calls).

:class:`PlainGraphRunner` keeps everything of Rasa's runner (the instantiated
``GraphNode`` objects, their hooks, the inputs/outputs protocol, the
``GraphRunError`` on a ``RuntimeError``) and replaces only the scheduling:
for each (targets, input names) the order in which dask itself executes the
nodes is recorded once, by letting ``dask.get`` run the same graph with
recording stand-ins, and later runs call the real nodes in that order. The
same nodes are called with the same arguments in the same order as under
dask, so the outputs are the same (tests/foundation/test_graph_runner.py
compares both runners on generated conversations).

An argument dask could not resolve is passed as its name, as dask does
(``GraphNode`` then logs its "was not resolved" warning). Only inference
graphs use this runner (``rasa.core.processor`` loads models with it once
``bot.channels.speedups.install`` ran); training keeps Rasa's runner.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Dict, List, Optional, Text, Tuple

import dask
from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphNode
from rasa.engine.runner.dask import DaskGraphRunner

logger = logging.getLogger(__name__)

#: one step of a plan: node name, the node, the names of its inputs (in schema order)
Step = Tuple[Text, GraphNode, Tuple[Text, ...]]
PlanKey = Tuple[Tuple[Text, ...], Tuple[Text, ...]]


def _recorder(name: Text, order: List[Text]) -> Callable[..., Tuple[Text, None]]:
    def record(*_: Any) -> Tuple[Text, None]:
        order.append(name)
        return name, None

    return record


class PlainGraphRunner(DaskGraphRunner):
    """``DaskGraphRunner`` whose ``run`` calls the nodes in dask's order directly."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plans: Dict[PlanKey, Tuple[List[Step], List[Text]]] = {}

    @classmethod
    def from_runner(cls, runner: DaskGraphRunner) -> "PlainGraphRunner":
        """A plain runner over the same instantiated nodes as ``runner`` (no second model load)."""
        plain = cls.__new__(cls)
        plain.__dict__.update(runner.__dict__)
        plain._plans = {}
        return plain

    def _plan(self, targets: List[Text], input_names: Tuple[Text, ...]) -> Tuple[List[Step], List[Text]]:
        """The nodes for ``targets`` in the order dask executes them (recorded once)."""
        key = (tuple(targets), input_names)
        plan = self._plans.get(key)
        if plan is not None:
            return plan
        minimal = self._graph_schema.minimal_graph_schema(targets)
        order: List[Text] = []
        shape: Dict[Text, Any] = {
            name: (_recorder(name, order), *node.needs.values()) for name, node in minimal.nodes.items()
        }
        for name in input_names:
            shape[name] = (name, None)  # the literal DaskGraphRunner._add_inputs_to_graph puts there
        dask.get(shape, targets)
        steps = [(name, self._instantiated_nodes[name], tuple(minimal.nodes[name].needs.values())) for name in order]
        plan = self._plans[key] = (steps, list(targets))
        return plan

    def run(self, inputs: Optional[Dict[Text, Any]] = None, targets: Optional[List[Text]] = None) -> Dict[Text, Any]:
        """Runs the graph (see ``GraphRunner.run``): same outputs as ``DaskGraphRunner.run``."""
        run_targets = targets if targets else self._graph_schema.target_names
        inputs = inputs or {}
        for name, value in inputs.items():
            if isinstance(value, str) and value in self._graph_schema.nodes:
                return super().run(inputs, targets)  # Rasa's own GraphRunError for the clash
        if logger.isEnabledFor(logging.DEBUG):  # Rasa formats the inputs (the whole tracker) even when not logging
            logger.debug(f"Running graph with inputs: {inputs}, targets: {targets} and {self._execution_context}.")
        steps, wanted = self._plan(list(run_targets), tuple(inputs))
        values: Dict[Text, Any] = {name: (name, value) for name, value in inputs.items()}
        try:
            for name, node, needs in steps:
                values[name] = node(*(values.get(need, need) for need in needs))
        except RuntimeError as e:
            raise GraphRunError("Error running runner.") from e
        return dict(values[target] for target in wanted)
