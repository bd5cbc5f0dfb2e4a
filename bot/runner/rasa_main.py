"""``python -m bot.runner.rasa_main run ...``: Rasa's own CLI, API token from the environment.

Why: ``rasa run --auth-token=X`` puts X in ``/proc/PID/cmdline``, which any
local user can read (``ps``). This launcher reads ``KEFU_RASA_TOKEN`` and
appends ``--auth-token=...`` to ``sys.argv`` inside the process before it
calls Rasa's CLI: Rasa parses the same arguments as before, and the kernel's
copy of the command line (what ``ps`` shows) never holds the secret.
``/proc/PID/environ`` is readable by the owner only.

It also makes custom action calls retry while the action server restarts
(bot/dialogue/action_retry.py) and runs Kefu's custom actions in this
process instead of over HTTP (bot/dialogue/local_actions.py;
``KEFU_ACTIONS_IN_PROCESS=0`` calls the action server), and keeps the
loaded model out of full garbage collections (bot/runner/gc_freeze.py).

TensorFlow gets one thread per pool (:func:`one_tf_thread`) unless the
operator set ``TF_INTER_OP_PARALLELISM_THREADS`` or
``TF_INTRA_OP_PARALLELISM_THREADS`` (Rasa reads both at start).
"""
from __future__ import annotations

import os
import sys
from typing import List, MutableMapping, Sequence

from rasa.__main__ import main as rasa_cli_main

from bot.dialogue import action_retry, local_actions
from bot.runner import gc_freeze

TOKEN_ENV = "KEFU_RASA_TOKEN"
#: TensorFlow's two thread pools, as Rasa's CLI reads them (rasa.utils.tensorflow.environment)
TF_THREAD_ENVS = ("TF_INTER_OP_PARALLELISM_THREADS", "TF_INTRA_OP_PARALLELISM_THREADS")


class LaunchError(Exception):
    """Arguments that would start Rasa unsafely; the message says what to fix."""


def argv_with_token(argv: Sequence[str], token: str) -> List[str]:
    """``argv`` (without the program name) plus the token as one item.

    One ``--auth-token=...`` item, not two: a token may start with ``-``,
    which argparse would read as the next option. A token already on the
    command line is refused, since that is exactly the leak this avoids.
    """
    if any(arg == "--auth-token" or arg.startswith("--auth-token=") for arg in argv):
        raise LaunchError(f"--auth-token must not be on the command line: set {TOKEN_ENV} instead")
    if "--enable-api" in argv and not token:
        raise LaunchError(f"{TOKEN_ENV} is empty: Rasa's HTTP API would be open to anyone")
    return [*argv, f"--auth-token={token}"] if token else list(argv)


def one_tf_thread(environ: MutableMapping[str, str]) -> None:
    """One thread in each of TensorFlow's pools, where the operator chose nothing.

    A served turn runs DIET and TED on a batch of one: tensors far too small
    to split across threads, so TensorFlow's default (a pool as wide as the
    machine, twice) only hands each op to another thread and back. With
    Sanic workers on every core, those threads also compete with the other
    workers. Measured on the 2-core machine (bench/RESULTS.md): 2 workers
    x1.08 turns/s, 1 worker at 10 customers x1.05, 1 customer the same.
    Training (``make train``) does not come through here and keeps TensorFlow's
    default.
    """
    for name in TF_THREAD_ENVS:
        environ.setdefault(name, "1")


def main() -> int:
    try:
        args = argv_with_token(sys.argv[1:], os.environ.get(TOKEN_ENV, ""))
    except LaunchError as exc:
        print(f"配置错误 (configuration error): {exc}", file=sys.stderr)
        return 2
    sys.argv = ["rasa", *args]
    one_tf_thread(os.environ)  # before Rasa's CLI reads them
    action_retry.install()  # custom actions retry while the action server restarts
    local_actions.install()  # unless KEFU_ACTIONS_IN_PROCESS=0
    gc_freeze.install()  # the loaded model out of full collections, unless KEFU_GC_FREEZE=0
    rasa_cli_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
