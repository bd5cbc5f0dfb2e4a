"""Micro-benchmark: one custom action call over HTTP (actions/server.py) against
the same call in process (bot/dialogue/local_actions.py), through Rasa's own
``RemoteAction.run``, on the generated trackers of the equivalence test.

    .venv/bin/python -m bench.micro_actions --calls 300 --rounds 4

prints, per round (interleaved HTTP, in process, in process, HTTP, ...), the
wall time per call and the CPU time per call of this process plus, for HTTP,
the action server's process: on a 2-core machine the second process's CPU is
taken from everything else.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from typing import Any, List, Optional, Tuple

import psutil

from bot.channels import speedups
from bot.dialogue import local_actions
from tests.foundation.test_local_actions import PROBES, generated_tracker, http_endpoint, outcome

ACTION = "action_probe_echo"


async def _calls(endpoint: Any, trackers: List[Any], count: int) -> None:
    for index in range(count):
        await outcome(endpoint, ACTION, trackers[index % len(trackers)])


def measure(endpoint: Any, trackers: List[Any], count: int, server: Optional[psutil.Process]) -> Tuple[float, float]:
    """(wall ms per call, CPU ms per call of this process and the server's)."""
    me = psutil.Process()
    cpu0 = sum(me.cpu_times()[:2]) + (sum(server.cpu_times()[:2]) if server else 0.0)
    began = time.perf_counter()
    asyncio.run(_calls(endpoint, trackers, count))
    wall = time.perf_counter() - began
    cpu = sum(me.cpu_times()[:2]) + (sum(server.cpu_times()[:2]) if server else 0.0) - cpu0
    return 1000 * wall / count, 1000 * cpu / count


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args(argv)
    speedups.install()  # as in the Rasa server: replies checked by jsonschema_rs first
    trackers = [generated_tracker(seed) for seed in range(20)]
    serving = http_endpoint.__wrapped__()  # the test fixture's generator: actions/server.py on a free port
    http = next(serving)
    try:
        local = local_actions.local_endpoint(http, local_actions.executor_for(PROBES))
        server = next(p for p in psutil.Process().children() if "build_app" in " ".join(p.cmdline()))
        measure(http, trackers, 30, server)
        measure(local, trackers, 30, None)
        figures: dict = {"http": [], "local": []}
        for round_no in range(args.rounds):
            order = ["http", "local"] if round_no % 2 == 0 else ["local", "http"]
            for side in order:
                wall, cpu = (measure(http, trackers, args.calls, server) if side == "http"
                             else measure(local, trackers, args.calls, None))
                figures[side].append((wall, cpu))
                print(f"round {round_no + 1} {side:5}: {wall:6.2f} ms/call wall, {cpu:6.2f} ms/call CPU (both processes)",
                      flush=True)
        med = {side: (statistics.median(w for w, _ in rows), statistics.median(c for _, c in rows))
               for side, rows in figures.items()}
        print(f"median: HTTP {med['http'][0]:.2f} ms wall / {med['http'][1]:.2f} ms CPU, in process {med['local'][0]:.2f} ms "
              f"wall / {med['local'][1]:.2f} ms CPU; HTTP/in-process wall x{med['http'][0] / med['local'][0]:.2f}, "
              f"CPU x{med['http'][1] / med['local'][1]:.2f}")
    finally:
        serving.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
