"""A/B of one setting on the whole running stack: two stacks on free ports, the
same model and channel, locust rounds interleaved A, B, B, A, A, B, ...

    .venv/bin/python -m bench.ab_stack --a KEFU_PLAIN_GRAPH_RUNNER=0 --b KEFU_PLAIN_GRAPH_RUNNER=1 \\
        --users 1,10 --seconds 15 --rounds 6

Both stacks are up for the whole run (the idle one costs almost no CPU), so
the rounds see the same machine; the medians of each side and their ratio
(B over A) are printed. The stack is the product's (bench/credentials_stock.yml
also opens the stock REST channel, ``--path`` chooses). ``--stock-a`` makes A
stock Rasa (bench/stock_stack.py) on B's Redis and data, through its REST
channel: issue 17's ratio. ``--client wrk`` plays the customers from wrk
(bench/wrk_load.py) instead of locust.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Union

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `python bench/ab_stack.py` puts bench/ on the path, not the project

from bench.base import Report  # noqa: E402
from bench.measure import locust, warm_up  # noqa: E402
from bench.stock_stack import StockStack  # noqa: E402
from bench import wrk_load  # noqa: E402
from bot.runner.stack_process import StackProcess  # noqa: E402


def _pairs(items: List[str]) -> Dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"{item!r}: expected NAME=VALUE")
        out[key] = value
    return out


def _name(args: argparse.Namespace, side: str) -> str:
    if side == "A" and args.stock_a:
        return "stock Rasa"
    return " ".join(args.a if side == "A" else args.b) or "defaults"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", action="append", default=[], help="NAME=VALUE for stack A (repeatable)")
    parser.add_argument("--b", action="append", default=[], help="NAME=VALUE for stack B (repeatable)")
    parser.add_argument("--users", default="10", help="customers, comma-separated for several levels (same stacks)")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=6, help="rounds per side")
    parser.add_argument("--path", default="/webhooks/kefu/webhook")
    parser.add_argument("--stock-a", action="store_true", help="A is stock Rasa beside stack B (--a is ignored)")
    parser.add_argument("--client", choices=("locust", "wrk"), default="locust", help="the load generator")
    args = parser.parse_args(argv)
    load = wrk_load.run if args.client == "wrk" else locust
    report = Report(started=time.strftime("%Y-%m-%d %H:%M"), command="ab_stack", load_before=(0.0, 0.0, 0.0))
    levels = [int(u) for u in args.users.split(",")]
    results: Dict[int, Dict[str, list]] = {users: {"A": [], "B": []} for users in levels}
    with tempfile.TemporaryDirectory(prefix="kefu-ab-") as tmp:
        stacks: Dict[str, Union[StackProcess, StockStack]] = {}
        paths = {"A": "/webhooks/rest/webhook" if args.stock_a else args.path, "B": args.path}
        try:
            for side, extra in (("B", _pairs(args.b)), ("A", _pairs(args.a))):
                if side == "A" and args.stock_a:
                    assert isinstance(stacks["B"], StackProcess)
                    stacks[side] = StockStack(stacks["B"], Path(tmp) / "stock")
                else:
                    settings = {"SANIC_WORKERS": "1", "KEFU_CREDENTIALS": "bench/credentials_stock.yml", **extra}  # --a/--b win
                    stacks[side] = StackProcess(StackProcess.free_env(Path(tmp) / side, **settings))
                warm_up({side: (stacks[side].url("rasa"), paths[side])})
            order = ["A", "B", "B", "A"] * ((args.rounds + 1) // 2)
            for users in levels:
                for index, side in enumerate(order[: 2 * args.rounds]):
                    result = load(report, stacks[side].url("rasa"), paths[side], users, args.seconds, side)
                    results[users][side].append(result)
                    print(f"{users:3} customers, round {index + 1:2} {side}: {result.rps:6.1f} turns/s p50 {result.p50:5.0f} "
                          f"p95 {result.p95:5.0f} p99 {result.p99:5.0f} ms errors {result.failures}", flush=True)
        finally:
            for stack in stacks.values():
                stack.stop()
    for users in levels:
        med = {side: {k: statistics.median(getattr(r, k) for r in rs) for k in ("rps", "p50", "p95", "p99")}
               for side, rs in results[users].items()}
        for side in ("A", "B"):
            print(f"{users:3} customers, {side} ({_name(args, side)}): median "
                  f"{med[side]['rps']:.1f} turns/s, p50 {med[side]['p50']:.0f} ms, p95 {med[side]['p95']:.0f} ms, "
                  f"p99 {med[side]['p99']:.0f} ms, "
                  f"errors {sum(r.failures for r in results[users][side])}")
        print(f"{users:3} customers, B/A: turns/s x{med['B']['rps'] / med['A']['rps']:.2f}, "
              f"p50 x{med['B']['p50'] / med['A']['p50']:.2f}, p95 x{med['B']['p95'] / med['A']['p95']:.2f}, "
              f"p99 x{med['B']['p99'] / med['A']['p99']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
