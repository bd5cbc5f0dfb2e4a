"""What every part of `make bench` (bench/run.py) shares: paths, channel labels,
the targets from the issues, the figures of one run (:class:`Report`) and the log line."""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Tuple

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PY = sys.executable
VENV_BIN = Path(PY).parent
KEFU = "Kefu channel"
#: Rasa's stock REST channel on Kefu's stack (Kefu's stores and speed-ups): the channel-overhead baseline
STOCK = "stock REST, Kefu stack"
#: stock Rasa (bench/stock_stack.py: Rasa's stores, rasa_sdk's action server, REST channel): issue 17's baseline
STOCK_RASA = "stock Rasa (baseline)"

# Targets from the issues (ms, replies/s, MiB).
TARGET_P95_MS = 100.0
TARGET_RPS = 60.0
TARGET_OVERHEAD = 0.10
#: stock, Kefu, Kefu, stock, stock, Kefu: drift in the run (Redis growing, caches warming) cancels out
PAIRED_ORDER = (STOCK, KEFU, KEFU, STOCK, STOCK, KEFU)
#: the same for Kefu against stock Rasa (the throughput ratio of issue 17)
RATIO_ORDER = (STOCK_RASA, KEFU, KEFU, STOCK_RASA, STOCK_RASA, KEFU)
#: SANIC_WORKERS of each alternating round, both stacks up: one worker against two, in the same minutes;
#: five a side, as one side's 12-s rounds spread by +-20% in a few minutes on this host (RESULTS.md);
#: the customers are played by wrk (bench/wrk_load.py: locust's CPU would be taken from the second worker)
WORKERS_ORDER = (1, 2, 2, 1, 1, 2, 2, 1, 1, 2)
#: customers of the alternating worker rounds
WORKERS_LEVELS = (10, 50)
PAIRED_SECONDS = 12
TARGET_RASA_MIB = 1.5 * 1024
TARGET_ESCALATION_P99 = 50.0
TARGET_AGENT_P99 = 100.0
TARGET_CLAIMS = 1000.0
# Issue 17 (performance).
TARGET_STOCK_RATIO = 2.0
TARGET_P95_RATIO_MS = 150.0
TARGET_SINGLE_P50_MS = 25.0
TARGET_WORKER_SCALE = 1.7

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
    #: CPU milliseconds per turn by process during the run (bench/measure.cpu_seconds): "rasa" (with its
    #: Sanic workers), "actions", "redis", "handoff", and "locust" (the load generator, its start-up included)
    cpu_ms: Dict[str, float] = field(default_factory=dict)
    #: the load generator: "locust" (bench/locustfile.py) or "wrk" (bench/wrk_load.py, the worker rounds)
    client: str = "locust"


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
    #: alternating stock Rasa / Kefu rounds at 10 customers, for the throughput ratio
    ratio: List[LoadResult] = field(default_factory=list)
    #: alternating 1- and 2-worker rounds (WORKERS_ORDER) at each of WORKERS_LEVELS, for the scale-out target
    workers_rounds: List[LoadResult] = field(default_factory=list)
    #: seconds of a fixed pure-Python loop (bench/measure.host_speed): how fast this host is today
    host_seconds: float = 0.0
    #: whether one scripted conversation got the same replies from stock Rasa and from Kefu
    same_replies: str = ""
    locust_runs: int = 0

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "Report":
        """The report bench/run.py saved as JSON (``dataclasses.asdict``)."""
        loads = {key: [LoadResult(**r) for r in data.get(key, [])] for key in ("loads", "paired", "ratio", "workers_rounds")}
        return cls(**{**data, **loads, "load_before": tuple(data["load_before"])})


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def get_in(data: Dict[str, Any], *path: str) -> Any:
    """``data[path[0]][path[1]]...``, or None where a key is missing (the handoff figures are optional)."""
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data
