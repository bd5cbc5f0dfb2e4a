"""`make bench`: speed and memory of the whole stack, with baselines measured
in the same run, written to bench/RESULTS.md (and bench/latency.png).

- replies through the project's channel (Kefu REST, with the handoff check)
  and Rasa's stock REST channel on the same model, at 1, 10 and 50 concurrent
  customers (locust, multi-turn conversations with real order look-ups,
  127.0.0.1 only), interleaved so both see the same machine;
- throughput with SANIC_WORKERS=1 and 2 (Redis lock store);
- the handoff bridge (bench/handoff_bench.py) next to redis-benchmark on the
  same Redis;
- training time, model load time, stack start-up, resident memory of each
  process at rest and under load;
- a py-spy profile of the Rasa server under the 10-customer load, summarised;
- the NLU evaluation one-line summaries (`make eval`, `make eval-external`).

Every step is bounded in time; the whole run takes about 12-15 minutes on
the 2-core machine. `--quick` is a 2-3 minute smoke run for development.
"""
from __future__ import annotations

import argparse
import collections
import csv
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.runner.stack import StackProcess  # noqa: E402

BENCH = ROOT / "bench"
PY = sys.executable
VENV_BIN = Path(PY).parent
KEFU = "Kefu channel"
STOCK = "stock REST (baseline)"

# Targets from the issues (ms, replies/s, MiB).
TARGET_P95_MS = 100.0
TARGET_RPS = 60.0
TARGET_OVERHEAD = 0.10
#: stock, Kefu, Kefu, stock, stock, Kefu: drift in the run (Redis growing, caches warming) cancels out
PAIRED_ORDER = (STOCK, KEFU, KEFU, STOCK, STOCK, KEFU)
PAIRED_SECONDS = 12
TARGET_RASA_MIB = 1.5 * 1024
TARGET_ESCALATION_P99 = 50.0
TARGET_AGENT_P99 = 100.0
TARGET_CLAIMS = 1000.0


@dataclass
class LoadResult:
    channel: str
    users: int
    workers: int
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float
    seconds: int = 0


@dataclass
class Report:
    started: str
    command: str
    load_before: Tuple[float, float, float]
    loads: List[LoadResult] = field(default_factory=list)
    memory: Dict[str, Dict[str, float]] = field(default_factory=dict)
    timings: Dict[str, float] = field(default_factory=dict)
    handoff: Dict[str, Any] = field(default_factory=dict)
    profile: Dict[str, Any] = field(default_factory=dict)
    evaluation: Dict[str, str] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)
    commands: List[str] = field(default_factory=list)
    #: alternating stock / Kefu rounds at 10 customers, for the channel-overhead target
    paired: List[LoadResult] = field(default_factory=list)
    locust_runs: int = 0


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# ---- load generation (locust) ------------------------------------------------------------

def locust(report: Report, host: str, path: str, users: int, seconds: int, label: str, workers: int = 1) -> LoadResult:
    """One headless locust run, bounded by -t; aimed at 127.0.0.1 only."""
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
        out = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=seconds + 90)
        stats = Path(f"{prefix}_stats.csv")
        if not stats.exists():
            raise RuntimeError(f"locust wrote no statistics (exit {out.returncode}): {out.stderr[-800:]}")
        with stats.open(newline="") as handle:
            rows = {row["Name"]: row for row in csv.DictReader(handle)}
    total = rows["Aggregated"]
    return LoadResult(
        channel=label, users=users, workers=workers, seconds=seconds,
        requests=int(total["Request Count"]), failures=int(total["Failure Count"]),
        rps=float(total["Requests/s"]), p50=float(total["50%"]), p95=float(total["95%"]), p99=float(total["99%"]),
    )


# ---- memory -----------------------------------------------------------------------------------

def _tree_memory(proc: psutil.Process) -> Tuple[float, float]:
    """(RSS, PSS) in MiB of a process and its children (Sanic workers)."""
    rss = pss = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            info = p.memory_full_info()
        except psutil.Error:
            continue
        rss += info.rss
        pss += getattr(info, "pss", info.rss)
    return rss / 2**20, pss / 2**20


class MemorySampler:
    """Peak RSS and PSS per service while loads run."""

    def __init__(self, stack: StackProcess) -> None:
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


def memory_now(stack: StackProcess) -> Dict[str, Dict[str, float]]:
    out = {}
    for name, proc in stack.processes().items():
        rss, pss = _tree_memory(proc)
        out[name] = {"rss": rss, "pss": pss}
    return out


# ---- stack ---------------------------------------------------------------------------------------

def channel_paths(stack: StackProcess) -> Dict[str, str]:
    paths = {STOCK: "/webhooks/rest/webhook"}
    probe = httpx.get(stack.url("rasa") + "/webhooks/kefu/", timeout=5)
    if probe.status_code == 200:
        paths[KEFU] = "/webhooks/kefu/webhook"
    return paths


def start_stack(tmp: Path, workers: int) -> Tuple[StackProcess, float]:
    started = time.monotonic()
    stack = StackProcess(StackProcess.free_env(tmp / f"w{workers}", SANIC_WORKERS=str(workers),
                                           KEFU_CREDENTIALS="bench/credentials_stock.yml"))
    return stack, time.monotonic() - started


def warm_up(stack: StackProcess, paths: Dict[str, str]) -> None:
    """One conversation per channel, so first-call costs (TF graph tracing) are not measured."""
    sys.path.insert(0, str(BENCH))
    from conversations import CONVERSATIONS  # noqa: E402  (not the locustfile: locust patches with gevent)

    with httpx.Client(base_url=stack.url("rasa"), timeout=60) as http:
        for path in paths.values():
            for index, script in enumerate(CONVERSATIONS):
                for _step, text in script:
                    http.post(path, json={"sender": f"warm-{index}-{path[10:14]}", "message": text})


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
    code = (
        "import time; t0=time.monotonic(); from rasa.core.agent import Agent; t1=time.monotonic(); "
        "Agent.load('models/kefu.tar.gz'); t2=time.monotonic(); print(t1-t0, t2-t1)"
    )
    out = subprocess.run([PY, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT)))
    if out.returncode != 0:
        report.notes.append("model load measurement failed: " + (out.stderr.strip().splitlines() or ["?"])[-1])
        return
    imports, load = (float(x) for x in out.stdout.strip().splitlines()[-1].split())
    report.timings["model load: import rasa (s)"] = imports
    report.timings["model load: Agent.load(models/kefu.tar.gz) (s)"] = load


def run_eval(report: Report) -> None:
    """`make eval` and `make eval-external` on the current model (no retrain)."""
    for key, args in (("held-out set (make eval)", ["eval"]), ("external set (make eval-external)", ["eval", "--external"])):
        try:
            out = subprocess.run([PY, "-m", "kefu_check", *args, "--no-train"], cwd=ROOT, capture_output=True,
                                 text=True, timeout=400)
            lines = [l for l in out.stdout.strip().splitlines() if l.strip()]
            report.evaluation[key] = lines[0] if lines else f"(no output, exit {out.returncode})"
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


# ---- profile (py-spy) ---------------------------------------------------------------------------------

CATEGORIES: List[Tuple[str, Tuple[str, ...]]] = [
    ("Kefu channel handoff check (bot/channels/gate.py)", ("HandoffGate", "log_notices")),
    ("jsonschema: validation of action server replies and tracker-event writes", ("jsonschema/", "jsonschema_rs")),
    ("NLU pipeline (parse_message: jieba, spaCy, featurizers, DIET on TensorFlow)", ("parse_message (rasa/core/processor", "rasa/nlu/")),
    ("dialogue policies (Rule/Memoization/TED predict)", ("_predict_next_with_tracker", "rasa/core/policies/")),
    ("tracker store (Redis; tracker (de)serialisation)", ("tracker_store.py",)),
    ("lock store (Redis ticket lock)", ("lock_store.py",)),
    ("actions and NLG (HTTP to the action server, bot/dialogue/nlg.py)", ("rasa/core/actions/", "bot/dialogue/nlg.py", "rasa/core/nlg/")),
    ("events / tracker bookkeeping", ("rasa/shared/core/trackers.py", "rasa/shared/core/events.py")),
]


def categorise(folded: Path) -> Dict[str, Any]:
    own: collections.Counter = collections.Counter()
    inclusive: collections.Counter = collections.Counter()
    cats: collections.Counter = collections.Counter()
    total = 0
    for line in folded.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
        for name, needles in CATEGORIES:
            if any(needle in stack for needle in needles):
                cats[name] += n
                break
        else:
            cats["Sanic, HTTP, JSON, asyncio and the rest"] += n
    if not total:
        return {}
    skip = ("asyncio/", "uvloop", "threading.py", "sanic/", "rasa/__main__", "rasa/cli/", "rasa/api.py", "<module>",
            "rasa/core/run.py", "handle_request", "connection_task", "http1", "decorated (rasa/server.py")
    top = [(f, n) for f, n in inclusive.most_common(200) if not any(s in f for s in skip)][:18]
    return {
        "samples": total,
        "categories": [(name, round(100 * n / total, 1)) for name, n in cats.most_common()],
        "inclusive": [(f, round(100 * n / total, 1)) for f, n in top],
        "own": [(f, round(100 * n / total, 1)) for f, n in own.most_common(10)],
    }


def profile_under_load(report: Report, stack: StackProcess, path: str, users: int, seconds: int) -> None:
    spy = VENV_BIN / "py-spy"
    if not spy.exists():
        report.notes.append("no profile: py-spy missing from .venv (pip install -c constraints.txt py-spy)")
        return
    rasa = stack.processes().get("rasa")
    if rasa is None:
        return
    folded = ROOT / "var" / "bench" / "profile-rasa.folded"
    folded.parent.mkdir(parents=True, exist_ok=True)
    cmd = [str(spy), "record", "--nonblocking", "-r", "100", "-d", str(seconds - 3), "-f", "raw",
           "-o", str(folded), "-p", str(rasa.pid)]
    report.commands.append("py-spy record --nonblocking -r 100 -d %d -f raw -o var/bench/profile-rasa.folded -p <rasa pid>"
                           "   # while locust runs %d customers on %s" % (seconds - 3, users, path))
    spy_proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        result = locust(report, stack.url("rasa"), path, users, seconds, "profiled")
    finally:
        try:
            _, err = spy_proc.communicate(timeout=seconds + 30)
        except subprocess.TimeoutExpired:
            spy_proc.kill()
            err = "timed out"
    if spy_proc.returncode != 0 or not folded.exists():
        report.notes.append(f"py-spy failed: {err.strip()[-300:]}")
        return
    report.profile = categorise(folded)
    report.profile["load"] = f"{users} customers on {path}: {result.rps:.1f} turns/s, p95 {result.p95:.0f} ms (under the profiler)"


# ---- output -----------------------------------------------------------------------------------------------

def plot(report: Report, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.2))
    styles = {STOCK: "tab:gray", KEFU: "tab:blue"}
    for (channel, workers), colour in [((STOCK, 1), "tab:gray"), ((KEFU, 1), "tab:blue"), ((KEFU, 2), "tab:green")]:
        rows = sorted((r for r in report.loads if r.channel == channel and r.workers == workers), key=lambda r: r.users)
        if not rows:
            continue
        label = f"{channel}, {workers} Sanic worker{'s' if workers > 1 else ''}"
        xs = [r.users for r in rows]
        ax.plot(xs, [r.p95 for r in rows], marker="o", color=colour, label=f"{label} p95")
        ax.plot(xs, [r.p50 for r in rows], marker=".", linestyle="--", color=colour, label=f"{label} p50")
        bx.plot(xs, [r.rps for r in rows], marker="o", color=colour, label=label)
    del styles
    ax.axhline(TARGET_P95_MS, color="tab:red", linewidth=0.8, linestyle=":", label="target p95 100 ms")
    bx.axhline(TARGET_RPS, color="tab:red", linewidth=0.8, linestyle=":", label="target 60 replies/s")
    for axis, ylabel in ((ax, "latency per turn (ms, log)"), (bx, "turns per second")):
        axis.set_xlabel("concurrent customers")
        axis.set_xscale("log")
        axis.set_xticks([1, 10, 50])
        axis.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
        axis.set_ylabel(ylabel)
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=7)
    ax.set_yscale("log")
    ax.set_title("Latency against concurrency", fontsize=10)
    bx.set_title("Throughput against concurrency", fontsize=10)
    fig.suptitle(f"Kefu bot replies, {os.cpu_count()} cores, {report.started}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def _verdict(ok: Optional[bool]) -> str:
    return "n/a" if ok is None else ("**met**" if ok else "**missed**")


def _get(data: Dict[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


KEEP_MARKER = "<!-- kept by make bench: measured by the commands it lists -->"


def write(report: Report, path: Path) -> str:
    mem = psutil.virtual_memory().total / 2**30
    load = report.load_before
    one = {(r.channel, r.users, r.workers): r for r in report.loads}
    kefu10, stock10 = one.get((KEFU, 10, 1)), one.get((STOCK, 10, 1))
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (bench/run.py); do not edit by hand, rerun it.",
        "",
        f"- Measured: {report.started} UTC",
        f"- Machine: {os.cpu_count()} cores ({platform.processor() or platform.machine()}), {mem:.1f} GiB RAM, "
        f"{platform.platform()}, Python {platform.python_version()}",
        f"- Load average before the run (1/5/15 min): {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}",
        "- Everything (Redis, action server, Rasa, bridge, locust, redis-benchmark) on this one machine, 127.0.0.1 only;",
        "  the load generator shares the 2 cores with the stack it measures.",
        "",
        "## Targets",
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
    ]
    if kefu10:
        lines.append(f"| 10 customers, whole stack: p95 <= {TARGET_P95_MS:.0f} ms | p95 {kefu10.p95:.0f} ms | "
                     f"{_verdict(kefu10.p95 <= TARGET_P95_MS)} |")
        lines.append(f"| 10 customers, whole stack: >= {TARGET_RPS:.0f} replies/s | {kefu10.rps:.1f} turns/s "
                     f"| {_verdict(kefu10.rps >= TARGET_RPS)} |")
    overhead = paired_overhead(report)
    if overhead is not None:
        over50, over95, rounds = overhead
        lines.append(f"| Kefu channel + handoff check add <= 10% to stock REST latency (10 customers) | "
                     f"p50 {over50:+.0%}, p95 {over95:+.0%} (medians of {rounds} alternating {PAIRED_SECONDS}-s rounds each) | "
                     f"{_verdict(over95 <= TARGET_OVERHEAD and over50 <= TARGET_OVERHEAD)} |")
    elif kefu10 and stock10 and stock10.p95:
        over50 = kefu10.p50 / stock10.p50 - 1 if stock10.p50 else 0.0
        over95 = kefu10.p95 / stock10.p95 - 1
        lines.append(f"| Kefu channel + handoff check add <= 10% to stock REST latency (10 customers) | "
                     f"p50 {over50:+.0%}, p95 {over95:+.0%} | {_verdict(over95 <= TARGET_OVERHEAD and over50 <= TARGET_OVERHEAD)} |")
    for key, v in report.memory.items():
        if key.endswith(":rasa") and v.get("peak_rss"):
            lines.append(f"| Rasa server memory under load <= 1.5 GB ({key.split(':')[0]}) | peak RSS {v['peak_rss']:.0f} MiB, "
                         f"PSS {v['peak_pss']:.0f} MiB | {_verdict(v['peak_pss'] <= TARGET_RASA_MIB)} (by PSS) |")
    esc = _get(report.handoff, "escalation_to_agent_queue", "latency_ms", "p99")
    if esc is not None:
        lines.append(f"| escalation visible in the agent queue p99 <= 50 ms | p99 {esc:.1f} ms | {_verdict(esc <= TARGET_ESCALATION_P99)} |")
    agent = _get(report.handoff, "agent_message_to_customer_socket", "latency_ms", "p99")
    if agent is not None:
        lines.append(f"| agent message to the customer's socket p99 <= 100 ms | p99 {agent:.1f} ms | {_verdict(agent <= TARGET_AGENT_P99)} |")
    claims = _get(report.handoff, "claims_lua", "per_s")
    if claims is not None:
        lines.append(f"| 1,000 claims/s sustained | {claims:.0f} claims/s (claim Lua, {_get(report.handoff, 'claims_lua', 'seconds')} s) | "
                     f"{_verdict(claims >= TARGET_CLAIMS)} |")

    lines += [
        "",
        "## Bot replies per channel",
        "",
        "Simulated customers (bench/locustfile.py) hold multi-turn conversations with real order look-ups",
        "(greeting, order status with order numbers and phone numbers from the seeded demo database, delays,",
        "refunds, invoices, thanks, goodbye); a new conversation id each time. One *turn* is one customer",
        "message and the bot's replies to it (one HTTP request). Both channels run on the same stack and model,",
        "interleaved at each concurrency level.",
        "",
        "The wording is generated (bench/conversations.py: several phrasings per step, the customer's own",
        "order or phone number, known to the demo database or not, fillers, punctuation, emoji), and every",
        "locust run draws new conversations. " + repeat_note(),
        "",
        "| channel | customers | Sanic workers | seconds | turns | errors | turns/s | p50 ms | p95 ms | p99 ms |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report.loads:
        lines.append(f"| {r.channel} | {r.users} | {r.workers} | {r.seconds} | {r.requests} | {r.failures} | {r.rps:.1f} | "
                     f"{r.p50:.0f} | {r.p95:.0f} | {r.p99:.0f} |")
    if report.paired:
        lines += ["", f"Channel overhead rounds (10 customers, 1 worker, {PAIRED_SECONDS} s each, in this order):", "",
                  "| round | channel | turns/s | p50 ms | p95 ms |", "|---|---|---|---|---|"]
        lines += [f"| {i} | {r.channel} | {r.rps:.1f} | {r.p50:.0f} | {r.p95:.0f} |" for i, r in enumerate(report.paired, 1)]
    lines += ["", "Kefu channel against the stock REST channel (same model, same run; >1 means slower / more):", ""]
    for users in sorted({r.users for r in report.loads}):
        ours, base = one.get((KEFU, users, 1)), one.get((STOCK, users, 1))
        if ours and base and base.p50 and base.p95 and base.rps:
            lines.append(f"- {users} customers: p50 ratio {ours.p50 / base.p50:.2f}, p95 ratio {ours.p95 / base.p95:.2f}, "
                         f"throughput ratio {ours.rps / base.rps:.2f}")
    w2 = sorted((r for r in report.loads if r.workers == 2), key=lambda r: r.users)
    if w2:
        lines += ["", "### SANIC_WORKERS 1 -> 2 (Redis lock store, Kefu channel)", ""]
        for r in w2:
            base = one.get((r.channel, r.users, 1))
            if base and base.rps:
                lines.append(f"- {r.users} customers: {base.rps:.1f} -> {r.rps:.1f} turns/s (x{r.rps / base.rps:.2f}), "
                             f"p95 {base.p95:.0f} -> {r.p95:.0f} ms")
    lines += ["", "![latency and throughput against concurrency](latency.png)", ""]

    lines += ["## Memory", "",
              "RSS and PSS (MiB) of each process with its children (the Sanic workers). PSS splits pages shared",
              "by forked workers, so it is the fairer sum when there are several.", "",
              "| stack | process | RSS at rest | RSS peak under load | PSS at rest | PSS peak under load |",
              "|---|---|---|---|---|---|"]
    for name, v in report.memory.items():
        stack_name, _, proc = name.partition(":")
        lines.append(f"| {stack_name} | {proc} | {v.get('rest_rss', 0):.0f} | {v.get('peak_rss', 0):.0f} | "
                     f"{v.get('rest_pss', 0):.0f} | {v.get('peak_pss', 0):.0f} |")

    lines += ["", "## Timings", ""]
    for name, value in report.timings.items():
        lines.append(f"- {name}: {value:.1f}")
    if report.evaluation:
        lines += ["", "## NLU evaluation (same model)", ""]
        for name, value in report.evaluation.items():
            lines.append(f"- {name}: `{value}`")
        if any("没有外部评估集" in v for v in report.evaluation.values()):
            lines.append("- The external evaluation set (../shared/external-eval/) was not available in this run: "
                         "no external figures.")

    if report.handoff:
        lines += handoff_section(report.handoff)
    if report.profile:
        lines += profile_section(report.profile)
    lines += analysis(report, kefu10, stock10)
    if report.notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in report.notes]
    lines += ["", "## Commands", "", "    make bench   # = " + report.command.split("# = ", 1)[-1], "",
              "which ran, in order:", ""] + [f"    {c}" for c in report.commands]
    text = "\n".join(lines) + "\n"
    # Sections measured by other commands (the understanding figures of issue 14)
    # sit after KEEP_MARKER; a benchmark run keeps them as they are.
    previous = path.read_text() if path.exists() else ""
    if KEEP_MARKER in previous:
        text += "\n" + previous[previous.index(KEEP_MARKER):]
    path.write_text(text)
    return text


def _lat(d: Optional[Dict[str, Any]]) -> str:
    if not d or not d.get("n"):
        return "-"
    return f"{d['p50']:.1f} / {d['p95']:.1f} / {d['p99']:.1f}"


def handoff_section(h: Dict[str, Any]) -> List[str]:
    rb = _get(h, "redis_benchmark", "runs") or {}

    def rb_lat(key: str) -> str:
        r = rb.get(key)
        return f"{key}: p50 {r['p50_ms']:.3f} / p99 {r['p99_ms']:.3f} ms" if r else "-"

    def rb_rps(key: str) -> str:
        r = rb.get(key)
        return f"{key}: {r['rps']:,.0f}/s" if r else "-"

    rows = [
        ("escalation -> visible in an agent console (POST /internal/escalate -> /ws/agent event), 1 at a time",
         h.get("escalation_to_agent_queue"), rb_lat("c1 SET")),
        ("the same, 4 escalations at a time", h.get("escalation_to_agent_queue_c4"), rb_rps("c50 XADD")),
        ("agent message -> customer's socket.io (POST /api/tickets/{id}/messages -> bot_uttered), 1 chat",
         h.get("agent_message_to_customer_socket"), rb_lat("c1 PUBLISH")),
        ("the same, 9 chats, each agent 1 message/s", h.get("agent_message_to_customer_socket_9chats"), rb_lat("c1 PUBLISH")),
        ("claims: claim_next Lua script (HandoffQueue, 16 at a time)", h.get("claims_lua"), rb_rps("c50 EVAL (one ZADD in Lua)")),
        ("claims: POST /api/queue/next through the bridge (claim + customer notice + Rasa tracker event)",
         h.get("claims_http"), rb_rps("c50 SET")),
    ]
    out = ["", "## Handoff bridge", "",
           f"Each step runs {h.get('seconds_per_step')} s (bench/handoff_bench.py) on the running stack above; "
           "redis-benchmark runs against the same redis-server in the same run (database 9).", "",
           "| measure | per second | errors | latency p50 / p95 / p99 ms | redis-benchmark, same Redis |",
           "|---|---|---|---|---|"]
    for label, data, ref in rows:
        if not data:
            continue
        out.append(f"| {label} | {data.get('per_s', 0):,.1f} | {data.get('errors', 0)} | {_lat(data.get('latency_ms'))} | {ref} |")
    lua = h.get("claims_lua") or {}
    if lua:
        out += ["", f"The claim step pre-fills {lua.get('tickets')} waiting tickets ({lua.get('fill_per_s'):,.0f} escalations/s "
                f"through the escalate Lua script), then claims them in queue order as agents with 3 chats each"
                + (" until the queue ran dry." if lua.get("queue_ran_dry") else ".")]
    if rb:
        out += ["", f"redis-benchmark ({_get(h, 'redis_benchmark', 'version')}, `{_get(h, 'redis_benchmark', 'command')}`):", "",
                "| test | requests/s | p50 ms | p99 ms |", "|---|---|---|---|"]
        for key, r in rb.items():
            out.append(f"| {key} | {r['rps']:,.0f} | {r['p50_ms']:.3f} | {r['p99_ms']:.3f} |")
    elif _get(h, "redis_benchmark", "skipped"):
        out += ["", f"redis-benchmark: {_get(h, 'redis_benchmark', 'skipped')}"]
    return out


def profile_section(p: Dict[str, Any]) -> List[str]:
    out = ["", "## Where the Rasa server's time goes (py-spy)", "",
           f"{p.get('samples')} samples of the Rasa server's Python stacks at 100 Hz while {p.get('load')}. "
           "Raw stacks: `var/bench/profile-rasa.folded` after a run (folded format, for any flame-graph tool; not committed).", "",
           "| share of busy samples | part |", "|---|---|"]
    out += [f"| {share}% | {name} |" for name, share in p.get("categories", [])]
    out += ["", "Top functions (inclusive, excluding the event loop and Sanic plumbing):", "", "```"]
    out += [f"{share:5.1f}%  {frame}" for frame, share in p.get("inclusive", [])]
    out += ["```"]
    return out


def paired_overhead(report: Report) -> Optional[Tuple[float, float, int]]:
    """(p50 overhead, p95 overhead, rounds per channel) from the alternating rounds, or None."""
    import statistics

    kefu = [r for r in report.paired if r.channel == KEFU]
    stock = [r for r in report.paired if r.channel == STOCK]
    if not kefu or not stock:
        return None
    s50, s95 = statistics.median(r.p50 for r in stock), statistics.median(r.p95 for r in stock)
    if not s50 or not s95:
        return None
    k50, k95 = statistics.median(r.p50 for r in kefu), statistics.median(r.p95 for r in kefu)
    return k50 / s50 - 1, k95 / s95 - 1, min(len(kefu), len(stock))


def repeat_note() -> str:
    """How often a customer message repeats an earlier one word for word (the NLU parse cache's best case)."""
    sys.path.insert(0, str(BENCH))
    from conversations import repeat_share  # noqa: E402

    small, large = repeat_share(300), repeat_share(2000)
    return (f"Over 300 conversations ({small['turns']:.0f} messages) {small['repeated_share']:.0%} of the messages repeat an "
            f"earlier text exactly, over 2,000 conversations {large['repeated_share']:.0%}: mostly greetings, thanks and "
            "goodbyes. That is the most the NLU parse cache (bot/channels/speedups.py) can answer without running the NLU; "
            "the rest are parsed in full.")


def analysis(report: Report, kefu10: Optional[LoadResult], stock10: Optional[LoadResult]) -> List[str]:
    """Why a target is missed and what would fix it, from this run's figures."""
    out = ["", "## Analysis", ""]
    cats = dict(report.profile.get("categories", [])) if report.profile else {}
    gate = cats.get(CATEGORIES[0][0], 0.0)
    schema = cats.get(CATEGORIES[1][0], 0.0)
    nlu = cats.get(CATEGORIES[2][0], 0.0)
    pol = cats.get(CATEGORIES[3][0], 0.0)
    trk = cats.get(CATEGORIES[4][0], 0.0)
    one = {(r.channel, r.users, r.workers): r for r in report.loads}
    w1, w2 = one.get((KEFU, 50, 1)), one.get((KEFU, 50, 2))
    single = one.get((KEFU, 1, 1))
    if kefu10 and (kefu10.p95 > TARGET_P95_MS or kefu10.rps < TARGET_RPS):
        per_turn = 1000.0 / kefu10.rps if kefu10.rps else 0.0
        out += [
            f"- **Latency and throughput at 10 customers are missed.** One Rasa server process handles a turn in "
            f"{single.p50 if single else 0:.0f} ms (p50 at 1 customer) of mostly CPU; under load it completes a turn every "
            f"{per_turn:.0f} ms, so 10 customers queue behind each other (p95 {kefu10.p95:.0f} ms) and throughput is capped near "
            f"{kefu10.rps:.0f} turns/s. The profile attributes {nlu:.0f}% of the busy time to the NLU pipeline, {pol:.0f}% to the "
            f"dialogue policies, {schema:.0f}% to jsonschema (action server replies and tracker-event writes, checked by jsonschema_rs first, bot/channels/speedups.py) " f"and {trk:.0f}% to the tracker store; the rest is Sanic, HTTP to the action server, JSON and asyncio. The stock channel "
            f"is just as far off (p95 {stock10.p95 if stock10 else 0:.0f} ms, {stock10.rps if stock10 else 0:.1f} turns/s), so this is "
            "the cost of Rasa's per-message pipeline on this machine, not of our channel.",
        ]
        w10a, w10b = one.get((KEFU, 10, 1)), one.get((KEFU, 10, 2))
        if w1 and w2:
            at10 = (f", x{w10b.rps / w10a.rps:.2f} at 10 ({w10a.rps:.1f} -> {w10b.rps:.1f})" if w10a and w10b and w10a.rps else "")
            out.append(f"- A second Sanic worker gives x{w2.rps / w1.rps:.2f} at 50 customers ({w1.rps:.1f} -> {w2.rps:.1f} turns/s)"
                       f"{at10}: the two cores are shared with the action server, Redis, the bridge and locust itself, "
                       "so the gain depends on how much of the second core they leave free. It also doubles the Rasa server's memory (one model per worker, see Memory).")
        out += [
            "- What would fix it: (1) more cores and one Sanic worker per core (the Redis lock store already makes that "
            "safe; throughput grew with workers above), with the load generator on another machine; (2) per-turn Rasa "
            "overhead that no cache removes: the tracker store still deserialises and replays the whole conversation "
            "on every retrieve (bot/stores/tracker_store.py only skips the replays on save), every custom action ships the "
            "whole tracker to the action server and back, and Rasa runs its policy graph through dask for every "
            "predicted action; shorter sessions (session expiry) bound the first two; (3) for messages the parse cache has "
            "not seen, a cheaper NLU: DIET runs a TensorFlow graph per message (Rasa's per-message API cannot batch).",
            f"- 60 turns/s at 10 customers with p95 <= 100 ms means a turn in well under 100 ms while ten are in flight, "
            f"i.e. about 100 turns/s on 2 cores shared with the action server, Redis and locust: x{100 / kefu10.rps:.1f} "
            f"this run's single-worker throughput. One customer alone sees p95 {single.p95 if single else 0:.0f} ms.",
        ]
    overhead = paired_overhead(report)
    if overhead is not None:
        over50, over95, rounds = overhead
        same = [r.p95 for r in report.paired if r.channel == STOCK]
        spread = (max(same) / min(same) - 1) if same and min(same) else 0.0
        verdict = "within" if over95 <= TARGET_OVERHEAD and over50 <= TARGET_OVERHEAD else "above"
        out.append(f"- The Kefu channel's own cost is one Redis GET per message (HandoffGate.state) while not in handoff: "
                   f"{gate:.1f}% of the profiled busy time. Measured as the medians of {rounds} alternating rounds per channel "
                   f"(stock, Kefu, Kefu, stock, stock, Kefu; {PAIRED_SECONDS} s each), it adds p50 {over50:+.0%} and p95 {over95:+.0%} "
                   f"({verdict} the 10% target). For scale: the p95 of the *same* stock channel varied by {spread:.0%} between "
                   "its rounds (one Rasa process, queueing), so single runs (the table above) can show either sign.")
    h = report.handoff
    agent = _get(h, "agent_message_to_customer_socket", "latency_ms", "p99")
    paced = _get(h, "agent_message_to_customer_socket_9chats", "latency_ms", "p99")
    if agent is not None:
        out.append(
            f"- Agent messages reach the customer's socket through Redis pub/sub and the Rasa server's socket.io manager, "
            f"so they wait for whatever that Rasa process is doing (p99 {agent:.0f} ms for one chat"
            + (f", {paced:.0f} ms with 9 chats" if paced is not None else "") + "). The bridge also writes every agent message "
            "into the Rasa tracker (`POST /conversations/{id}/tracker/events`, validated by jsonschema_rs first, "
            "bot/channels/speedups.py); with several chats, the delivery tail is the time Rasa's loop is busy with customer turns.")
    claims_http = _get(h, "claims_http", "per_s")
    if claims_http is not None:
        out.append(f"- Claims: the claim itself (one Lua script) sustains {_get(h, 'claims_lua', 'per_s') or 0:,.0f}/s from one Python "
                   f"client; a claim through the bridge's HTTP API ({claims_http:.0f}/s) also sends the customer the \"agent joined\" "
                   "notice, writes it into the Rasa tracker and returns the masked transcript, so it is bounded by Rasa's "
                   "tracker-events endpoint and PII masking, not by Redis (compare redis-benchmark).")
    return out


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=25, help="duration of each load step")
    parser.add_argument("--users", default="1,10,50")
    parser.add_argument("--quick", action="store_true", help="short smoke run (steps of 8 s, no training)")
    parser.add_argument("--no-train", action="store_true", help="skip the training-time measurement")
    parser.add_argument("--no-workers", action="store_true", help="skip the SANIC_WORKERS=2 run")
    parser.add_argument("--no-eval", action="store_true", help="skip the NLU evaluation summaries")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.no_train, args.no_eval = 8, True, True
    users = [int(u) for u in args.users.split(",")]
    began = time.monotonic()
    report = Report(
        started=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        command="make bench  # = " + " ".join(shlex.quote(a) for a in [".venv/bin/python", "bench/run.py", *(argv if argv is not None else sys.argv[1:])]),
        load_before=os.getloadavg(),
    )
    log(f"load average {report.load_before[0]:.2f}; steps of {args.seconds} s")
    if not args.no_train:
        log("training (rasa train --force) ...")
        measure_training(report)
    log("model load ...")
    measure_model_load(report)
    with tempfile.TemporaryDirectory(prefix="kefu-bench-") as tmp_name:
        tmp = Path(tmp_name)
        log("starting the stack (1 Sanic worker) ...")
        stack, startup = start_stack(tmp, 1)
        report.timings["stack start-up to healthy, 1 worker (s)"] = startup
        try:
            paths = channel_paths(stack)
            warm_up(stack, paths)
            time.sleep(2)
            rest = memory_now(stack)
            with MemorySampler(stack) as sampler:
                for users_n in users:
                    for label, path in paths.items():
                        result = locust(report, stack.url("rasa"), path, users_n, args.seconds, label)
                        report.loads.append(result)
                        log(f"{label:22} {users_n:3} customers: {result.rps:6.1f} turns/s p50 {result.p50:5.0f} p95 "
                            f"{result.p95:5.0f} ms errors {result.failures}")
            for name in rest:
                report.memory[f"1 worker:{name}"] = {
                    "rest_rss": rest[name]["rss"], "rest_pss": rest[name]["pss"],
                    "peak_rss": sampler.peak.get(name, {}).get("rss", 0.0), "peak_pss": sampler.peak.get(name, {}).get("pss", 0.0),
                }
            if KEFU in paths and STOCK in paths:
                log("channel overhead: alternating rounds at 10 customers ...")
                for label in PAIRED_ORDER:
                    result = locust(report, stack.url("rasa"), paths[label], 10, PAIRED_SECONDS, label)
                    report.paired.append(result)
                    log(f"  {label:22} p50 {result.p50:5.0f} p95 {result.p95:5.0f} ms")
            log("profiling the Rasa server under load (py-spy) ...")
            profile_under_load(report, stack, paths.get(KEFU, paths[STOCK]), 10, max(12, args.seconds))
            log("handoff bridge and redis-benchmark ...")
            run_handoff(stack, report, 5 if args.quick else 8, args.quick)
        finally:
            stack.stop()
        if not args.no_workers:
            log("starting the stack with SANIC_WORKERS=2 ...")
            stack2, startup2 = start_stack(tmp, 2)
            report.timings["stack start-up to healthy, 2 workers (s)"] = startup2
            try:
                paths2 = channel_paths(stack2)
                label = KEFU if KEFU in paths2 else STOCK
                warm_up(stack2, {label: paths2[label]})
                time.sleep(2)
                rest2 = memory_now(stack2)
                with MemorySampler(stack2) as sampler2:
                    for users_n in [u for u in users if u > 1]:
                        result = locust(report, stack2.url("rasa"), paths2[label], users_n, args.seconds, label, workers=2)
                        report.loads.append(result)
                        log(f"{label:22} {users_n:3} customers, 2 workers: {result.rps:6.1f} turns/s p95 {result.p95:6.0f} ms")
                for name in ("rasa",):
                    report.memory[f"2 workers:{name}"] = {
                        "rest_rss": rest2[name]["rss"], "rest_pss": rest2[name]["pss"],
                        "peak_rss": sampler2.peak[name]["rss"], "peak_pss": sampler2.peak[name]["pss"],
                    }
            finally:
                stack2.stop()
    if not args.no_eval:
        log("NLU evaluation summaries (kefu_check eval --no-train) ...")
        report.commands.append("python -m kefu_check eval --no-train; python -m kefu_check eval --external --no-train")
        run_eval(report)
    report.timings["whole benchmark run (s)"] = time.monotonic() - began
    report.notes.append("Load average at the end of the run (1/5/15 min): %.2f / %.2f / %.2f (the benchmark itself keeps "
                        "both cores busy, so about 2 is expected)." % os.getloadavg())
    plot(report, BENCH / "latency.png")
    text = write(report, BENCH / "RESULTS.md")
    print(text)
    log(f"done in {time.monotonic() - began:.0f} s: bench/RESULTS.md, bench/latency.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
