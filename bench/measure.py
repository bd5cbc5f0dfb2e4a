"""The measurements of `make bench`: locust load, process memory, the stack under test,
training / model-load / evaluation timings and the handoff bridge (bench/handoff_bench.py)."""
from __future__ import annotations

import csv
import json
import os
import resource
import shlex
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import httpx
import psutil

from bench.base import BENCH, KEFU, PY, ROOT, STOCK, STOCK_RASA, VENV_BIN, LoadResult, Report
# the conversations, not the locustfile: importing locust patches the standard library with gevent
from bench.conversations import CONVERSATIONS, conversation
from bench.stock_stack import ResponseNames, StockStack, reply_texts
from bot.runner.stack_process import StackProcess


# ---- load generation (locust) ------------------------------------------------------------

def process_tree(proc: psutil.Process) -> List[psutil.Process]:
    """A process and its live children (Sanic's workers); none if it is gone."""
    try:
        return [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return []


def cpu_seconds(procs: Dict[str, psutil.Process]) -> Dict[str, float]:
    """CPU seconds (user + system) each process and its live children have used so far."""
    out = {}
    for name, proc in procs.items():
        total = 0.0
        for member in process_tree(proc):
            try:
                times = member.cpu_times()
            except psutil.Error:
                continue
            total += times.user + times.system
        out[name] = total
    return out


def locust(report: Report, host: str, path: str, users: int, seconds: int, label: str, workers: int = 1,
           procs: Optional[Dict[str, psutil.Process]] = None) -> LoadResult:
    """One headless locust run, bounded by -t; aimed at 127.0.0.1 only.

    With ``procs`` (the stack's processes), the result carries each one's CPU
    milliseconds per turn, and locust's own (its children's rusage: locust is
    waited for), so a report can say how much of the machine each part took.
    """
    assert host.startswith("http://127.0.0.1:"), host
    with tempfile.TemporaryDirectory() as tmp:
        prefix = Path(tmp) / "stats"
        report.locust_runs += 1
        env = dict(os.environ, BENCH_PATH=path, BENCH_SEED=str(1_000_000 * report.locust_runs))
        cmd = [
            str(VENV_BIN / "locust"), "-f", "bench/locustfile.py", "--headless",
            "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--host", host,
            "--csv", str(prefix), "--only-summary", "--stop-timeout", "5", "--loglevel", "ERROR",
        ]
        shown = " ".join(shlex.quote(c) for c in cmd[1:]).replace(str(prefix), "STATS").replace(host, "http://127.0.0.1:PORT")
        report.commands.append(f"BENCH_PATH={path} locust {shown}")
        before = cpu_seconds(procs or {})
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=seconds + 90)
        spent = resource.getrusage(resource.RUSAGE_CHILDREN)
        after = cpu_seconds(procs or {})
        stats = Path(f"{prefix}_stats.csv")
        if not stats.exists():
            raise RuntimeError(f"locust wrote no statistics (exit {out.returncode}): {out.stderr[-800:]}")
        with stats.open(newline="") as handle:
            rows = {row["Name"]: row for row in csv.DictReader(handle)}
    total = rows["Aggregated"]
    turns = int(total["Request Count"])
    cpu: Dict[str, float] = {}
    if procs and turns:
        cpu = {name: 1000 * (after[name] - before[name]) / turns for name in before if name in after}
        cpu["locust"] = 1000 * (spent.ru_utime + spent.ru_stime - children.ru_utime - children.ru_stime) / turns
    return LoadResult(
        channel=label, users=users, workers=workers, seconds=seconds,
        requests=turns, failures=int(total["Failure Count"]),
        rps=float(total["Requests/s"]), p50=float(total["50%"]), p95=float(total["95%"]), p99=float(total["99%"]),
        cpu_ms=cpu,
    )


# ---- memory -----------------------------------------------------------------------------------

def _tree_memory(proc: psutil.Process) -> Tuple[float, float]:
    """(RSS, PSS) in MiB of a process and its children (Sanic workers)."""
    rss = pss = 0.0
    for p in process_tree(proc):
        try:
            info = p.memory_full_info()
        except psutil.Error:
            continue
        rss += info.rss
        pss += getattr(info, "pss", info.rss)
    return rss / 2**20, pss / 2**20


class MemorySampler:
    """Peak RSS and PSS per service while loads run."""

    def __init__(self, stack: "StackProcess | StockStack") -> None:
        self.procs = stack.processes()
        self.peak: Dict[str, Dict[str, float]] = {name: {"rss": 0.0, "pss": 0.0} for name in self.procs}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, proc in self.procs.items():
                rss, pss = _tree_memory(proc)
                self.peak[name]["rss"] = max(self.peak[name]["rss"], rss)
                self.peak[name]["pss"] = max(self.peak[name]["pss"], pss)
            self._stop.wait(0.5)

    def __enter__(self) -> "MemorySampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def memory_now(stack: "StackProcess | StockStack") -> Dict[str, Dict[str, float]]:
    out = {}
    for name, proc in stack.processes().items():
        rss, pss = _tree_memory(proc)
        out[name] = {"rss": rss, "pss": pss}
    return out


# ---- stack ---------------------------------------------------------------------------------------

Target = Tuple[str, str]  # (base URL, webhook path)


def channel_targets(stack: StackProcess, stock: Optional[StockStack] = None) -> Dict[str, Target]:
    """{channel label: (base URL, path)}: the stock REST and Kefu channels on Kefu's stack, and stock Rasa's."""
    base = stack.url("rasa")
    targets = {STOCK: (base, "/webhooks/rest/webhook")}
    probe = httpx.get(base + "/webhooks/kefu/", timeout=5)
    if probe.status_code == 200:
        targets[KEFU] = (base, "/webhooks/kefu/webhook")
    if stock is not None:
        targets[STOCK_RASA] = (stock.url("rasa"), "/webhooks/rest/webhook")
    return targets


def start_stack(tmp: Path, workers: int) -> Tuple[StackProcess, float]:
    started = time.monotonic()
    stack = StackProcess(StackProcess.free_env(tmp / f"w{workers}", SANIC_WORKERS=str(workers),
                                           KEFU_CREDENTIALS="bench/credentials_stock.yml"))
    return stack, time.monotonic() - started


def start_stock(stack: StackProcess, tmp: Path) -> Tuple[StockStack, float]:
    """Stock Rasa (bench/stock_stack.py) on ``stack``'s Redis and data."""
    started = time.monotonic()
    stock = StockStack(stack, tmp / "stock")
    return stock, time.monotonic() - started


def warm_up(targets: Dict[str, Target]) -> None:
    """Ten conversations per channel, so first-call costs (TF graph tracing) are not measured.

    Each on its own connection: with several Sanic workers, each accepts some
    of them (one kept-alive connection would warm one worker only).
    """
    for label, (base, path) in targets.items():
        for index, script in enumerate(CONVERSATIONS):
            with httpx.Client(timeout=60) as http:
                for _step, text in script:
                    http.post(base + path, json={"sender": f"warm-{index}-{label[:5]}", "message": text})


def same_replies(targets: Dict[str, Target], seeds: int = 12) -> str:
    """Whether generated conversations get the same replies (response and values) on every channel."""
    channels = list(targets)
    differing = []
    names = ResponseNames()
    with httpx.Client(timeout=60) as http:
        for seed in range(seeds):
            texts = [text for _step, text in conversation(seed)]
            answers = {label: names.turns(reply_texts(base, path, f"same-{seed}-{index}", texts, http))
                       for index, (label, (base, path)) in enumerate(targets.items())}
            if any(answers[label] != answers[channels[0]] for label in channels[1:]):
                differing.append(seed)
    if differing:
        return f"{len(differing)} of {seeds} conversations got different replies (seeds {differing})"
    return f"all {seeds} conversations got the same replies on {', '.join(channels)}"


def host_speed() -> float:
    """Seconds of a fixed pure-Python loop (10 million additions), best of 3: how fast this host runs today.

    Figures compare only within one run; this line says whether a run's host was slow.
    """
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        total = 0
        for i in range(10_000_000):
            total += i
        best = min(best, time.perf_counter() - start)
    return best


# ---- timings -------------------------------------------------------------------------------------

def measure_training(report: Report) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = ["rasa", "train", "--domain", "domain", "--data", "data", "--config", "config.yml",
               "--out", tmp, "--force", "--quiet"]
        report.commands.append(" ".join(cmd[:-4] + ["--out", "TMPDIR", "--force", "--quiet"]))
        start = time.monotonic()
        out = subprocess.run([str(VENV_BIN / "rasa"), *cmd[1:]], cwd=ROOT, capture_output=True, text=True, timeout=900)
        if out.returncode != 0:
            report.notes.append("training failed: " + (out.stderr.strip().splitlines() or ["?"])[-1])
            return
        report.timings["training, full, --force (s)"] = time.monotonic() - start


def measure_model_load(report: Report) -> None:
    """Rasa's load and Kefu's lean load (bench/model_load.py), each in a new process."""
    import_s = None
    for mode, label in (("rasa", "Rasa's RasaModel.load"), ("lean", "Kefu's lean load")):
        out = subprocess.run([PY, "-m", "bench.model_load", mode], cwd=ROOT, capture_output=True, text=True,
                             timeout=300, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT)))
        if out.returncode != 0:
            report.notes.append(f"model load measurement ({mode}) failed: "
                                + (out.stderr.strip().splitlines() or ["?"])[-1])
            continue
        figures = json.loads(out.stdout.strip().splitlines()[-1])
        import_s = figures["import_s"] if import_s is None else import_s
        report.timings[f"model load: Agent.load(models/kefu.tar.gz), {label} (s)"] = figures["load_s"]
        report.timings[f"model load: memory the load adds, {label} (MiB anonymous)"] = (
            figures["anon_after_mib"] - figures["anon_before_mib"])
    if import_s is not None:
        report.timings["model load: import rasa (s)"] = import_s


def run_eval(report: Report) -> None:
    """`make eval` and `make eval-external` on the current model (no retrain)."""
    for key, args in (("held-out set (make eval)", ["eval"]), ("external set (make eval-external)", ["eval", "--external"])):
        try:
            out = subprocess.run([PY, "-m", "kefu_check", *args, "--no-train"], cwd=ROOT, capture_output=True,
                                 text=True, timeout=400)
            lines = [l for l in out.stdout.strip().splitlines() if l.strip()]
            # kefu_check's summary line (kefu_check/cli.py), after any notice such as the files it skipped
            summary = [l for l in lines if l.startswith(("评估结果(", "外部评估("))]
            report.evaluation[key] = (summary or lines or [f"(no output, exit {out.returncode})"])[0]
        except subprocess.TimeoutExpired:
            report.evaluation[key] = "(timed out after 400 s)"


# ---- handoff ---------------------------------------------------------------------------------------

def run_handoff(stack: StackProcess, report: Report, seconds: int, quick: bool) -> None:
    args = ["--json", "--seconds", str(seconds)]
    if quick:
        args += ["--lua-tickets", "6000", "--http-tickets", "90", "--redis-requests", "10000"]
    report.commands.append("python bench/handoff_bench.py " + " ".join(args))
    out = subprocess.run([PY, str(BENCH / "handoff_bench.py"), *args], cwd=ROOT, capture_output=True, text=True,
                         env=dict(stack.env, REDIS_URL=stack.url("redis")), timeout=600)
    if out.returncode != 0:
        report.notes.append("handoff bench failed: " + " ".join(out.stderr.strip().splitlines()[-3:]))
        return
    report.handoff = json.loads(out.stdout.strip().splitlines()[-1])
