"""Can Sanic's workers share one model loaded before the fork? (issue 17: 2 workers within 1.5 GB)

    .venv/bin/python -m bench.fork_model [--children 2] [--wait 20]

Loads models/kefu.tar.gz in this process, parses one message (TensorFlow's
thread pools are up, as in a serving process), then forks ``--children``
processes that each parse two messages, as forked Sanic workers would. It
prints, per child, whether it answered within ``--wait`` seconds, and the
parent's and children's PSS. Children that do not answer are killed.

What it showed on TensorFlow 2.12 (2026-12-03, both with Kefu's plain graph
runner and with Rasa's dask one): 0 of 2 children answered; ``py-spy dump``
of a child shows it waiting in TensorFlow's ``quick_execute`` under DIET's
``_rasa_predict``. The thread pools TensorFlow started in the parent do not
exist in a forked child, so the model has to be loaded after the fork, once
per worker, as Rasa does.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
from pathlib import Path
from typing import List, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `python bench/fork_model.py` puts bench/ on the path, not the project

import psutil  # noqa: E402


def _pss(pid: int) -> float:
    try:
        return psutil.Process(pid).memory_full_info().pss / 2**20
    except psutil.Error:
        return 0.0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=2)
    parser.add_argument("--wait", type=float, default=20.0, help="seconds a child may take to answer")
    parser.add_argument("--stock-runner", action="store_true",
                        help="Rasa's dask graph runner instead of Kefu's plain one (bot/dialogue/graph_runner.py)")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # here, not at the top: TensorFlow and the model load only when the check runs, not on --help
    from rasa.core.agent import Agent

    from bot.channels import speedups

    if not args.stock_runner:
        speedups.install()  # as the Rasa server runs it: the plain graph runner, no dask thread pool
    before = _pss(os.getpid())
    agent = Agent.load(str(ROOT / "models" / "kefu.tar.gz"))
    intent = asyncio.run(agent.parse_message("我的外卖到哪了"))["intent"]["name"]
    after = _pss(os.getpid())
    print(f"parent: PSS {before:.0f} MiB with Rasa imported, {after:.0f} MiB with the model loaded and one message "
          f"parsed ({intent}): the model is {after - before:.0f} MiB of every worker", flush=True)
    read_end, write_end = os.pipe()
    children = []
    for index in range(args.children):
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            for text in ("司机怎么还没来", "我要退款"):
                asyncio.run(agent.parse_message(text))
            os.write(write_end, bytes([index]))
            os._exit(0)
        children.append(pid)
    os.close(write_end)
    os.set_blocking(read_end, False)
    answered: set = set()
    deadline = time.monotonic() + args.wait
    while time.monotonic() < deadline and len(answered) < len(children):
        try:
            answered.update(os.read(read_end, 64))
        except BlockingIOError:
            pass
        time.sleep(0.2)
    for index, pid in enumerate(children):
        if index in answered:
            print(f"child {index}: answered within {args.wait:.0f} s", flush=True)
        else:
            print(f"child {index}: no answer within {args.wait:.0f} s (PSS {_pss(pid):.0f} MiB), killed", flush=True)
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    print(f"forked workers that answered: {len(answered)} of {len(children)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
