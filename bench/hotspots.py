"""Where the Rasa server's time goes under load: a py-spy profile taken while locust
runs, summarised by part of the stack (CATEGORIES) and by function."""
from __future__ import annotations

import collections
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Tuple

from bench.base import ROOT, VENV_BIN, Report
from bench.measure import locust
from bot.runner.stack_process import StackProcess

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
