"""`make bench`: speed and memory of the whole stack, with baselines measured
in the same run, written to bench/RESULTS.md (and bench/latency.png).

- replies through the project's channel (Kefu REST, with the handoff check)
  and Rasa's stock REST channel on the same model, at 1, 10 and 50 concurrent
  customers (locust, multi-turn conversations with real order look-ups,
  127.0.0.1 only), interleaved so both see the same machine;
- throughput with SANIC_WORKERS=1 and 2 (Redis lock store): single runs, then
  alternating rounds with both stacks up, whose medians judge the scale-out
  target (a host that drifts during the run moves both sides alike); those
  rounds' customers come from wrk (bench/wrk_load.py), whose CPU per turn is
  a fraction of locust's;
- the handoff bridge (bench/handoff_bench.py) next to redis-benchmark on the
  same Redis;
- training time, model load time, stack start-up, resident memory of each
  process at rest and under load;
- a py-spy profile of the Rasa server under the 10-customer load, summarised;
- the NLU evaluation one-line summaries (`make eval`, `make eval-external`).

Every step is bounded in time; the whole run takes about 15-18 minutes on
the 2-core machine. `--quick` is a smoke run for development (about 9 minutes: 8-s steps, no training).
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `python bench/run.py` puts bench/ on the path, not the project

from bench.base import (BENCH, KEFU, PAIRED_ORDER, PAIRED_SECONDS, RATIO_ORDER, STOCK, STOCK_RASA, WORKERS_LEVELS,  # noqa: E402
                        WORKERS_ORDER, LoadResult, Report, log)
from bench.hotspots import profile_under_load  # noqa: E402
from bench.measure import (MemorySampler, Target, channel_targets, host_speed, locust, measure_model_load,  # noqa: E402
                           measure_training, memory_now, run_eval, run_handoff, same_replies, start_stack, start_stock,
                           warm_up)
from bench.stock_stack import StockStack  # noqa: E402
from bench import wrk_load  # noqa: E402
from bot.runner.stack_process import StackProcess  # noqa: E402
from bench.report import plot, write  # noqa: E402


#: a load run: bench.measure.locust or bench.wrk_load.run
LoadRun = Callable[..., LoadResult]

#: the figures of the last run (not committed), for --rewrite after a change to the report's wording
FIGURES = ROOT / "var" / "bench" / "figures.json"


def _load(report: Report, target: Target, users: int, seconds: int, label: str, workers: int = 1,
          procs: Optional[Dict[str, psutil.Process]] = None, client: LoadRun = locust) -> LoadResult:
    result = client(report, target[0], target[1], users, seconds, label, workers=workers, procs=procs)
    log(f"{label:24} {users:3} customers, {workers} worker(s), {result.client}: {result.rps:6.1f} turns/s p50 {result.p50:5.0f} "
        f"p95 {result.p95:5.0f} ms errors {result.failures}")
    return result


def _memory(report: Report, name: str, rest: Dict[str, Dict[str, float]], sampler: MemorySampler) -> None:
    for proc in rest:
        report.memory[f"{name}:{proc}"] = {
            "rest_rss": rest[proc]["rss"], "rest_pss": rest[proc]["pss"],
            "peak_rss": sampler.peak.get(proc, {}).get("rss", 0.0), "peak_pss": sampler.peak.get(proc, {}).get("pss", 0.0),
        }


def _alternate(report: Report, targets: Dict[str, Target], procs: Dict[str, Dict[str, psutil.Process]]) -> None:
    """Alternating rounds at 10 customers: Kefu against the stock channel (overhead) and against stock Rasa (ratio)."""
    for order, into, what in ((PAIRED_ORDER, report.paired, "channel overhead"), (RATIO_ORDER, report.ratio, "stock Rasa ratio")):
        if not all(label in targets for label in order):
            continue
        log(f"{what}: alternating rounds at 10 customers ...")
        for label in order:
            into.append(_load(report, targets[label], 10, PAIRED_SECONDS, label, procs=procs[label]))


def label_of(targets: Dict[str, Target]) -> str:
    """The channel the worker runs measure: Kefu's when the stack serves it."""
    return KEFU if KEFU in targets else STOCK


def _two_workers(report: Report, tmp: Path, label: str, users: List[int],
                 seconds: int) -> Tuple[StackProcess, Target, Dict[str, psutil.Process]]:
    """Start the 2-worker stack (beside the idle 1-worker one) and run its single load steps, memory sampled.

    Returns the running stack, its ``label`` channel and its processes, for the alternating rounds.
    """
    log("starting the stack with SANIC_WORKERS=2 ...")
    stack2, startup2 = start_stack(tmp, 2)
    report.timings["stack start-up to healthy, 2 workers (s)"] = startup2
    try:
        target = channel_targets(stack2)[label]
        warm_up({label: target})
        time.sleep(2)
        rest2 = memory_now(stack2)
        procs = stack2.processes()
        with MemorySampler(stack2) as sampler2:
            for users_n in [u for u in users if u > 1]:
                report.loads.append(_load(report, target, users_n, seconds, label, workers=2, procs=procs))
        _memory(report, "2 workers", {"rasa": rest2["rasa"]}, sampler2)
    except BaseException:
        stack2.stop()
        raise
    return stack2, target, procs


def _alternate_workers(report: Report, label: str, targets: Dict[int, Target],
                       procs: Dict[int, Dict[str, psutil.Process]]) -> None:
    """1 worker against 2 in alternating rounds (WORKERS_ORDER), both stacks up, at each of WORKERS_LEVELS.

    The customers come from wrk (bench/wrk_load.py): with two workers the
    stack needs both cores, and locust's CPU per turn would be taken from it.
    """
    for users in WORKERS_LEVELS:
        log(f"1 against 2 workers: alternating rounds at {users} customers ...")
        for workers in WORKERS_ORDER:
            report.workers_rounds.append(_load(report, targets[workers], users, PAIRED_SECONDS, label,
                                               workers=workers, procs=procs[workers], client=wrk_load.run))


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=25, help="duration of each load step")
    parser.add_argument("--users", default="1,10,50")
    parser.add_argument("--quick", action="store_true", help="short smoke run (steps of 8 s, no training)")
    parser.add_argument("--no-train", action="store_true", help="skip the training-time measurement")
    parser.add_argument("--no-workers", action="store_true", help="skip the SANIC_WORKERS=2 runs and the alternating worker rounds")
    parser.add_argument("--no-eval", action="store_true", help="skip the NLU evaluation summaries")
    parser.add_argument("--rewrite", action="store_true",
                        help=f"measure nothing: write RESULTS.md and latency.png again from the last run's figures ({FIGURES.name})")
    args = parser.parse_args(argv)
    if args.rewrite:
        report = Report.from_dict(json.loads(FIGURES.read_text()))
        plot(report, BENCH / "latency.png")
        write(report, BENCH / "RESULTS.md")
        return 0
    if args.quick:
        args.seconds, args.no_train, args.no_eval = 8, True, True
    users = [int(u) for u in args.users.split(",")]
    began = time.monotonic()
    speed = host_speed()
    report = Report(
        started=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        command="make bench  # = " + " ".join(shlex.quote(a) for a in [".venv/bin/python", "bench/run.py", *(argv if argv is not None else sys.argv[1:])]),
        load_before=os.getloadavg(), host_seconds=speed,
    )
    log(f"load average {report.load_before[0]:.2f}; steps of {args.seconds} s")
    if not args.no_train:
        log("training (rasa train --force) ...")
        measure_training(report)
    log("model load ...")
    measure_model_load(report)
    with tempfile.TemporaryDirectory(prefix="kefu-bench-") as tmp_name:
        tmp = Path(tmp_name)
        log("starting the stack (1 Sanic worker) and stock Rasa beside it ...")
        stack, startup = start_stack(tmp, 1)
        report.timings["stack start-up to healthy, 1 worker (s)"] = startup
        stock: Optional[StockStack] = None
        stack2: Optional[StackProcess] = None
        try:
            stock, stock_startup = start_stock(stack, tmp)
            report.timings["stock Rasa start-up to healthy (s)"] = stock_startup
            targets = channel_targets(stack, stock)
            warm_up(targets)
            report.same_replies = same_replies(targets)
            log(report.same_replies)
            time.sleep(2)
            rest, stock_rest = memory_now(stack), memory_now(stock)
            # whose processes serve each channel: stock Rasa's own, or Kefu's stack
            kefu_procs = stack.processes()
            procs = {label: kefu_procs for label in targets}
            if STOCK_RASA in procs:  # stock Rasa's servers, on the Kefu stack's Redis
                procs[STOCK_RASA] = {**stock.processes(), "redis": kefu_procs["redis"]}
            with MemorySampler(stack) as sampler, MemorySampler(stock) as stock_sampler:
                for users_n in users:
                    for label, target in targets.items():
                        report.loads.append(_load(report, target, users_n, args.seconds, label, procs=procs[label]))
            _memory(report, "1 worker", rest, sampler)
            _memory(report, "stock Rasa", stock_rest, stock_sampler)
            _alternate(report, targets, procs)
            log("profiling the Rasa server under load (py-spy) ...")
            label = label_of(targets)
            profile_under_load(report, stack, targets[label][1], 10, max(12, args.seconds))
            stock.stop()  # its part is done; stopped now so the 2-worker rounds share the machine with idle Kefu only
            stock = None
            if not args.no_workers:
                stack2, target2, procs2 = _two_workers(report, tmp, label, users, args.seconds)
                _alternate_workers(report, label, {1: targets[label], 2: target2}, {1: kefu_procs, 2: procs2})
                stack2.stop()
                stack2 = None
            # last on this stack: the bench's agents leave thousands of claimed tickets whose leases run out 30 s
            # later, and the bridge hands each back to the queue and tells its customer (through this Rasa server)
            log("handoff bridge and redis-benchmark ...")
            run_handoff(stack, report, 5 if args.quick else 8, args.quick)
        finally:
            for running in (stock, stack2, stack):
                if running is not None:
                    running.stop()
    if not args.no_eval:
        log("NLU evaluation summaries (kefu_check eval --no-train) ...")
        report.commands.append("python -m kefu_check eval --no-train; python -m kefu_check eval --external --no-train")
        run_eval(report)
    report.timings["whole benchmark run (s)"] = time.monotonic() - began
    report.notes.append("Load average at the end of the run (1/5/15 min): %.2f / %.2f / %.2f (the benchmark itself keeps "
                        "both cores busy, so about 2 is expected)." % os.getloadavg())
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    FIGURES.write_text(json.dumps(dataclasses.asdict(report), ensure_ascii=False, indent=1))
    plot(report, BENCH / "latency.png")
    text = write(report, BENCH / "RESULTS.md")
    print(text)
    log(f"done in {time.monotonic() - began:.0f} s: bench/RESULTS.md, bench/latency.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
