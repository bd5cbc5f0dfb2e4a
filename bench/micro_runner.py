"""Micro-benchmark and equivalence check: Rasa's DaskGraphRunner against
bot.dialogue.graph_runner.PlainGraphRunner on the same loaded model.

Generated conversations (bench/conversations.py) are played in process: each
customer message is parsed, then actions are predicted until the bot listens
(custom actions are recorded as executed but not run: the runners only see
trackers). ``compare`` runs both runners on every step and reports any
difference in their outputs; ``timed`` plays the same conversations with one
runner and returns the seconds spent in ``graph_runner.run``.

    .venv/bin/python -m bench.micro_runner --conversations 40 --rounds 4

prints, per round, the time per graph run of each runner (interleaved
A, B, A, B on the same trackers) and their ratio.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
import time
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from bench.conversations import conversation

#: predictions after one customer message before giving up (Rasa's own limit is 10)
MAX_ACTIONS = 6

RunnerCall = Callable[[Optional[Dict[str, Any]], Optional[List[str]]], Dict[str, Any]]


def steps(processor: Any, seeds: range) -> Iterator[Tuple[str, Dict[str, Any], List[str]]]:
    """Every graph run of the conversations as (kind, inputs, targets), playing them with ``processor``.

    The tracker advances with the processor's own runner, so both runners are
    later given exactly the same inputs (the same objects).
    """
    # here, not at the top: Rasa pulls in TensorFlow; the module is only used with a loaded model
    from rasa.core.channels.channel import UserMessage
    from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
    from rasa.shared.core.constants import ACTION_LISTEN_NAME
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    metadata = processor.model_metadata
    domain = processor.domain
    for seed in seeds:
        tracker = DialogueStateTracker(f"micro-{seed}", domain.slots)
        tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
        for _, text in conversation(seed):
            message = UserMessage(text, sender_id=tracker.sender_id)
            inputs = {PLACEHOLDER_MESSAGE: [message], PLACEHOLDER_TRACKER: tracker}
            yield "parse", inputs, [metadata.nlu_target]
            parsed = asyncio.run(processor.parse_message(message, tracker))
            tracker.update(UserUttered(text, parsed["intent"], parsed["entities"], parsed), domain)
            for _ in range(MAX_ACTIONS):
                yield "predict", {PLACEHOLDER_TRACKER: tracker}, [metadata.core_target]
                prediction = processor._predict_next_with_tracker(tracker)
                best = max(range(len(prediction.probabilities)), key=prediction.probabilities.__getitem__)
                action = domain.action_names_or_texts[best]
                tracker.update(ActionExecuted(action, prediction.policy_name, prediction.max_confidence))
                if action == ACTION_LISTEN_NAME:
                    break


def _features(features: Any) -> Tuple[Any, ...]:
    matrix = features.features
    dense = matrix.toarray() if hasattr(matrix, "toarray") else matrix
    return (features.type, features.attribute, repr(features.origin), dense.shape, dense.tobytes())


def comparable(value: Any) -> Any:
    """A form of a graph output that == compares by content (Messages by their data)."""
    from rasa.shared.nlu.training_data.message import Message  # here: heavy import, loaded model only

    if isinstance(value, Message):
        return ("Message", comparable(value.data), [_features(f) for f in value.features])
    if type(value).__name__ == "Doc" and hasattr(value, "to_bytes"):  # spaCy's Doc: no == by content
        return ("Doc", value.to_bytes())
    # loaded resources (two loads of one model give two objects): the same when loaded from the same files
    if type(value).__name__ == "Domain" and hasattr(value, "fingerprint"):
        return ("Domain", value.fingerprint())
    if type(value).__name__ == "SpacyModel" and hasattr(value, "model_name"):
        return ("SpacyModel", value.model_name)
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [comparable(v) for v in value]
    return value


@contextlib.contextmanager
def no_prediction_cache(runner: Any) -> Iterator[None]:
    """TED's prediction cache off: otherwise the second runner would get the first one's cached answer."""
    caches = [node._component for node in runner._instantiated_nodes.values()
              if "prediction_cache_size" in getattr(getattr(node, "_component", None), "config", {})]
    sizes = [ted.config["prediction_cache_size"] for ted in caches]
    try:
        for ted in caches:
            ted.config["prediction_cache_size"] = 0
        yield
    finally:
        for ted, size in zip(caches, sizes):
            ted.config["prediction_cache_size"] = size


def compare(processor: Any, reference: Any, candidate: Any, seeds: range) -> Tuple[int, List[str]]:
    """(graph runs compared, differences) of two runners over the conversations of ``seeds``.

    Every output of every node the targets need is compared, not only the targets.
    """
    runs, differences = 0, []
    processor.graph_runner = reference
    with no_prediction_cache(reference):
        for kind, inputs, targets in steps(processor, seeds):
            runs += 1
            every = list(reference._graph_schema.minimal_graph_schema(targets).nodes)
            expected = reference.run(inputs=inputs, targets=every)
            got = candidate.run(inputs=inputs, targets=every)
            if comparable(got) != comparable(expected):
                differences.append(f"{kind} on {inputs['__tracker__'].sender_id}: {got!r} != {expected!r}")
    return runs, differences


def timed(processor: Any, runner: Any, seeds: range) -> Tuple[int, float]:
    """(graph runs, seconds inside runner.run) playing the conversations with ``runner``."""
    processor.graph_runner = runner
    runs, spent = 0, 0.0
    original = runner.run

    def clocked(inputs: Optional[Dict[str, Any]] = None, targets: Optional[List[str]] = None) -> Dict[str, Any]:
        nonlocal runs, spent
        began = time.perf_counter()
        try:
            return original(inputs=inputs, targets=targets)
        finally:
            spent += time.perf_counter() - began
            runs += 1

    runner.run = clocked
    try:
        for _ in steps(processor, seeds):
            pass
    finally:
        del runner.run
    return runs, spent


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--model", default="models/kefu.tar.gz")
    args = parser.parse_args(argv)
    # here: TensorFlow, only when run
    from rasa.core.agent import Agent
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    from bot.dialogue.graph_runner import PlainGraphRunner

    configure_logging_and_warnings(logging.INFO)  # what `rasa run` sets up by default
    configure_structlog(logging.INFO)
    agent = Agent.load(args.model)
    processor = agent.processor
    dask_runner = processor.graph_runner
    plain = PlainGraphRunner.from_runner(dask_runner)
    seeds = range(args.conversations)
    runs, differences = compare(processor, dask_runner, plain, seeds)
    print(f"equivalence: {runs} graph runs, {len(differences)} differences")
    for line in differences[:5]:
        print("  ", line[:300])
    timed(processor, dask_runner, seeds)  # warm-up (TED and NLU internals)
    ratios = []
    for round_no in range(args.rounds):
        order = [("dask", dask_runner), ("plain", plain)] if round_no % 2 == 0 else [("plain", plain), ("dask", dask_runner)]
        per_run: Dict[str, float] = {}
        for name, runner in order:
            n, spent = timed(processor, runner, seeds)
            per_run[name] = 1000 * spent / n
        ratios.append(per_run["dask"] / per_run["plain"])
        print(f"round {round_no + 1} ({order[0][0]} first): {n} runs, dask {per_run['dask']:.3f} ms/run, "
              f"plain {per_run['plain']:.3f} ms/run, saved {per_run['dask'] - per_run['plain']:.3f} ms/run, "
              f"dask/plain {ratios[-1]:.2f}")
    ratios.sort()
    print(f"median dask/plain time per graph run: {ratios[len(ratios) // 2]:.2f}")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
