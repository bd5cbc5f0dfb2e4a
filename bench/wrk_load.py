"""The simulated customers from wrk (C) instead of locust (Python), for the worker rounds.

The benchmark's load generator runs on the same 2 cores as the stack it
measures. locust costs 0.4-0.8 ms of CPU per turn (RESULTS.md's CPU table), a
tenth of what a turn costs the stack; when two Rasa workers keep both cores
busy, that tenth is taken from them, and not from one worker, which leaves a
core idle. So locust lowers what a second worker appears to add. wrk plays
the same conversations (bench/conversations.py, the same generator and
seeds scheme) at a fraction of that CPU, so the 1-against-2-worker rounds
measure the stack, as they would with the customers on other machines.

wrk runs one thread per customer, one connection each (bench/wrk_conversations.lua):
a customer sends a turn, waits for the reply, sends the next; a conversation's
last turn closes the connection and the customer pauses 0-50 ms before the
next one, as locust's do. Debian's ``wrk`` package; `make bench` installs it.
"""
from __future__ import annotations

import json
import math
import os
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Dict, Optional

import psutil

from bench.base import BENCH, ROOT, LoadResult, Report
from bench.conversations import conversation
from bench.measure import cpu_seconds

SCRIPT = BENCH / "wrk_conversations.lua"
#: turns/s no run of this benchmark reaches on 2 cores: conversations are written for this rate, so none repeats
MAX_TURNS_PER_S = 600
#: the fewest turns of a generated conversation
MIN_TURNS = 3


class WrkError(RuntimeError):
    """wrk is missing, failed, or its customers ran out of fresh conversations."""


def executable() -> str:
    """The path of wrk, or WrkError saying how to get it."""
    found = shutil.which("wrk")
    if found is None:
        raise WrkError("wrk 未安装: apt-get install wrk (make bench 会自动安装)")
    return found


def lua_string(text: str) -> str:
    """``text`` as a Lua long-bracket literal (JSON-escaped, so ASCII only); LuaJIT has no \\u escapes."""
    encoded = json.dumps(text, ensure_ascii=True)
    level = 0
    while f"]{'=' * level}]" in encoded:
        level += 1
    return f"[{'=' * level}[{encoded}]{'=' * level}]"


def conversations_per_customer(customers: int, seconds: int) -> int:
    """Enough conversations for each customer that none is played twice in ``seconds``."""
    return math.ceil(MAX_TURNS_PER_S * seconds / MIN_TURNS / customers) + 1


def write_conversations(path: Path, customers: int, per_customer: int, first_seed: int) -> None:
    """The Lua table bench/wrk_conversations.lua loads: customer i plays seeds first_seed + i*per_customer + k."""
    lines = ["return {"]
    for customer in range(customers):
        lines.append(" {")
        for k in range(per_customer):
            turns = conversation(first_seed + customer * per_customer + k)
            lines.append("  {" + ", ".join(lua_string(text) for _, text in turns) + "},")
        lines.append(" },")
    lines.append("}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def parse_summary(stdout: str) -> Dict[str, int]:
    """The JSON line done() prints, or WrkError with what wrk said."""
    for line in reversed(stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise WrkError(f"wrk printed no summary: {stdout[-800:]}")


def run(report: Report, host: str, path: str, users: int, seconds: int, label: str, workers: int = 1,
        procs: Optional[Dict[str, psutil.Process]] = None) -> LoadResult:
    """One wrk run of ``users`` customers for ``seconds``, like bench.measure.locust (127.0.0.1 only).

    With ``procs``, the result carries each process's CPU milliseconds per
    turn, and wrk's own under "wrk" (its rusage: wrk is waited for).
    """
    assert host.startswith("http://127.0.0.1:"), host
    report.locust_runs += 1  # the runs' counter: each run draws its own conversations
    per_customer = conversations_per_customer(users, seconds)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "conversations.lua"
        first_seed = 1_000_000 * report.locust_runs
        write_conversations(data, users, per_customer, first_seed)
        # the run's sender ids: unique across runs of one report, and across reports by the clock
        env = dict(os.environ, BENCH_PATH=path, BENCH_CONVERSATIONS=str(data),
                   BENCH_RUN=f"{int(time.time())}-{report.locust_runs}")
        cmd = [executable(), f"-t{users}", f"-c{users}", f"-d{seconds}s", "--timeout", "10s",
               "-s", str(SCRIPT), host]
        report.commands.append(f"BENCH_PATH={path} wrk -t{users} -c{users} -d{seconds}s --timeout 10s "
                               f"-s bench/wrk_conversations.lua http://127.0.0.1:PORT")
        before = cpu_seconds(procs or {})
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=seconds + 60)
        spent = resource.getrusage(resource.RUSAGE_CHILDREN)
        after = cpu_seconds(procs or {})
    if out.returncode != 0:
        raise WrkError(f"wrk exited {out.returncode}: {(out.stderr or out.stdout)[-800:]}")
    summary = parse_summary(out.stdout)
    if summary["conversations"] > users * per_customer:
        raise WrkError(f"{summary['conversations']} conversations begun, {users * per_customer} written: "
                       "raise MAX_TURNS_PER_S")
    turns = summary["requests"]
    cpu: Dict[str, float] = {}
    if procs and turns:
        cpu = {name: 1000 * (after[name] - before[name]) / turns for name in before if name in after}
        cpu["wrk"] = 1000 * (spent.ru_utime + spent.ru_stime - children.ru_utime - children.ru_stime) / turns
    elapsed = summary["microseconds"] / 1e6
    return LoadResult(
        channel=label, users=users, workers=workers, seconds=seconds, requests=turns,
        failures=summary["failures"] + summary["socket_errors"], rps=turns / elapsed if elapsed else 0.0,
        p50=summary["p50_us"] / 1000, p95=summary["p95_us"] / 1000, p99=summary["p99_us"] / 1000, cpu_ms=cpu,
        client="wrk",
    )

