"""Model load time and memory: Rasa's own load against Kefu's lean load (bot/dialogue/lean_load.py).

    .venv/bin/python -m bench.model_load rasa|lean

loads models/kefu.tar.gz in this process and prints one JSON line: seconds to
import Rasa, seconds in ``Agent.load``, and the process's anonymous memory
(MiB, /proc/self/smaps_rollup: what a forked or spawned worker cannot share)
before and after the load. ``make bench`` runs it once per mode, each in a
new process (bench/measure.py ``measure_model_load``).
"""
from __future__ import annotations

import json
import sys
import time
from typing import Dict, List, Optional

from core.paths import ROOT

MODES = ("rasa", "lean")


def anonymous_mib() -> float:
    """This process's anonymous memory in MiB (Linux)."""
    with open("/proc/self/smaps_rollup", encoding="ascii") as rollup:
        for line in rollup:
            if line.startswith("Anonymous:"):
                return int(line.split()[1]) / 1024
    return 0.0


def measure(mode: str) -> Dict[str, float]:
    began = time.monotonic()
    # here, not at the top: importing Rasa (TensorFlow) is part of what is measured
    from rasa.core.agent import Agent

    from bot.dialogue import lean_load

    imported = time.monotonic()
    before = anonymous_mib()
    if mode == "lean":
        lean_load.install()
    Agent.load(str(ROOT / "models" / "kefu.tar.gz"))
    loaded = time.monotonic()
    return {"import_s": imported - began, "load_s": loaded - imported,
            "anon_before_mib": before, "anon_after_mib": anonymous_mib()}


def main(argv: Optional[List[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] not in MODES:
        print(f"usage: python -m bench.model_load {'|'.join(MODES)}", file=sys.stderr)
        return 2
    print(json.dumps(measure(args[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
