"""Micro-benchmark: dialogue prediction with Rasa's ``Domain.states_for_tracker_history``
against bot/dialogue/prior_states.py, on the same loaded model and conversations.

    .venv/bin/python -m bench.prior_states --conversations 40 --rounds 4

Generated conversations (bench/conversations.py) are played in process as
bench/micro_runner.py plays them (each message parsed, actions predicted
until the bot listens); rounds alternate Rasa, Kefu, Kefu, Rasa, ... and
each prints the milliseconds per predicted action (the parse of each message included,
mostly parse-cache hits) and the calls the policies made
for states. Printed last, as one JSON line: the medians and their ratio.
"""
from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `python bench/prior_states.py` puts bench/ on the path, not the project

from bench.micro_runner import steps  # noqa: E402


def _round(processor: Any, seeds: range, kefu: bool) -> Dict[str, float]:
    # here, not at the top: Rasa pulls in TensorFlow (seconds); --help should not pay for it
    from rasa.shared.core.domain import Domain

    from bot.dialogue import prior_states

    prior_states.uninstall()
    if kefu:
        prior_states.install(size=256)
    calls = [0]
    method = Domain.states_for_tracker_history

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return method(*args, **kwargs)

    Domain.states_for_tracker_history = counted  # type: ignore[method-assign]
    predictions = 0
    spent = 0.0
    try:
        started = time.perf_counter()
        for kind, _inputs, _targets in steps(processor, seeds):
            if kind == "predict":
                predictions += 1
        spent = time.perf_counter() - started
    finally:
        Domain.states_for_tracker_history = method  # type: ignore[method-assign]
        prior_states.uninstall()
    return {"ms_per_prediction": 1000 * spent / max(predictions, 1), "predictions": predictions, "state_calls": calls[0]}


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=4, help="rounds per side")
    parser.add_argument("--model", default="models/kefu.tar.gz")
    args = parser.parse_args(argv)
    # here, not at the top: loading the model imports TensorFlow
    from rasa.core.agent import Agent
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    from bot.channels import speedups

    configure_logging_and_warnings(logging.INFO)  # what `rasa run` sets up by default
    configure_structlog(logging.INFO)
    speedups.install()  # what the server runs with (plain graph runner, lean load); the states cache is toggled per round
    processor = Agent.load(args.model).processor
    seeds = range(1000, 1000 + args.conversations)
    _round(processor, range(0, 3), kefu=False)  # warm-up: TensorFlow traces, caches of the parse and of TED
    _round(processor, seeds, kefu=False)
    results: Dict[str, List[float]] = {"rasa": [], "kefu": []}
    order = (["rasa", "kefu", "kefu", "rasa"] * args.rounds)[: 2 * args.rounds]
    for index, side in enumerate(order, 1):
        figures = _round(processor, seeds, kefu=side == "kefu")
        results[side].append(figures["ms_per_prediction"])
        print(f"round {index:2} {side}: {figures['ms_per_prediction']:.2f} ms per predicted action "
              f"({figures['predictions']:.0f} predictions, {figures['state_calls']:.0f} state calls)", flush=True)
    rasa, kefu = statistics.median(results["rasa"]), statistics.median(results["kefu"])
    print(json.dumps({"rasa_ms": round(rasa, 3), "kefu_ms": round(kefu, 3), "kefu_over_rasa": round(kefu / rasa, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
