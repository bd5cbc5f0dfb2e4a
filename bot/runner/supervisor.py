"""Keeping the stack's children alive: restart with back-off, die with the parent, clean stale stacks.

Used by bot/runner/stack.py (``make run``, the test stacks). Linux only, as the
project is:

- Every child is started with ``PR_SET_PDEATHSIG`` (``prctl(2)``): when the
  stack runner dies, even by ``kill -9``, the kernel sends each child SIGTERM.
  Each child also gets its own session (process group), so a stop reaches
  whatever the child started.
- A child that exits while the stack runs is restarted after a back-off
  (0.5 s, doubling to 30 s; reset once it has stayed up a minute), and each
  restart is logged with the child's name, exit code and delay only: never
  its environment or command line (tokens live in the environment).
- ``<data dir>/stack.pid`` names the runner and its children (pid and start
  time). The next start reads it: a runner still alive is refused in one
  line; children of a dead runner that are still running (the same pid *and*
  start time, so never a process that merely reused the pid) are stopped
  before the ports are checked, so ``make run`` after a killed ``make run``
  does not fail with 端口已被占用.
"""
from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional

import psutil

#: prctl(2) option: the signal a process gets when its parent thread dies
PR_SET_PDEATHSIG = 1
#: first restart delay (s); doubles per quick death up to MAX_BACKOFF
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 30.0
#: a child that stayed up this long (s) starts again from FIRST_BACKOFF
STABLE_SECONDS = 60.0


class StaleStackError(Exception):
    """Another stack runner is alive on this data dir; the message says which."""


def die_with_parent(parent_pid: int) -> Callable[[], None]:
    """A ``preexec_fn``: SIGTERM to the child when ``parent_pid`` dies.

    Runs in the child between fork and exec. If the parent already died
    before prctl took effect, the child exits instead of living on as an orphan.
    """

    libc = ctypes.CDLL(None, use_errno=True)  # loaded before fork: the child only calls it
    if threading.current_thread() is not threading.main_thread():
        # the signal follows the parent *thread*: a child started from a worker thread
        # would die with that thread, so it only gets its own session
        return lambda: None

    def _preexec() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent_pid:
            os._exit(1)

    return _preexec


def spawn(args: List[str], log: Path, **popen: object) -> subprocess.Popen:
    """Start one child in its own session, tied to this process's life, output appended to ``log``."""
    with open(log, "ab") as out:
        return subprocess.Popen(  # type: ignore[call-overload,no-any-return]
            args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=die_with_parent(os.getpid()), **popen,
        )


@dataclass
class Backoff:
    """Restart delays for one child: FIRST_BACKOFF doubling to MAX_BACKOFF, reset when stable."""

    delay: float = FIRST_BACKOFF
    restarts: int = 0
    started: float = field(default_factory=time.monotonic)

    def next_delay(self) -> float:
        """The delay before the next restart, after a death now."""
        if time.monotonic() - self.started >= STABLE_SECONDS:
            self.delay = FIRST_BACKOFF
        delay = self.delay
        self.delay = min(self.delay * 2, MAX_BACKOFF)
        self.restarts += 1
        return delay

    def restarted(self) -> None:
        self.started = time.monotonic()


def _identity(pid: int) -> Optional[Dict[str, float]]:
    try:
        return {"pid": pid, "created": psutil.Process(pid).create_time()}
    except psutil.Error:
        return None


def _same_process(entry: object) -> Optional[psutil.Process]:
    """The live process an entry of stack.pid names, or None (gone, or the pid was reused)."""
    if not isinstance(entry, dict):
        return None
    try:
        proc = psutil.Process(int(entry.get("pid", 0)))
        if abs(proc.create_time() - float(entry.get("created", -1))) > 0.01:
            return None
        return proc
    except (psutil.Error, ValueError, TypeError):
        return None


class RunFile:
    """``<data dir>/stack.pid``: the running stack runner and its children."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.children: Dict[str, Optional[Dict[str, float]]] = {}

    def record(self, name: str, pid: int) -> None:
        """Name a (re)started child; the file is rewritten at once (a kill -9 may come any time)."""
        self.children[name] = _identity(pid)
        data = {"stack": _identity(os.getpid()), "children": self.children}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        tmp.replace(self.path)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)

    def clean_stale(self, timeout: float = 15.0) -> List[str]:
        """Stop the children a dead runner left behind; the names of those stopped.

        Raises StaleStackError when the runner itself is still alive (a second
        ``make run`` on the same data dir).
        """
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        if not isinstance(data, dict):
            return []
        runner = _same_process(data.get("stack"))
        if runner is not None and runner.pid != os.getpid():
            raise StaleStackError(f"Kefu 已在运行 (pid {runner.pid}, 数据目录 {self.path.parent}): 请先停止它")
        found = {name: proc for name, entry in (data.get("children") or {}).items()
                 if (proc := _same_process(entry)) is not None}
        for proc in found.values():
            _signal_group(proc.pid, signal.SIGTERM)
        _, alive = psutil.wait_procs(list(found.values()), timeout=timeout)
        for proc in alive:
            _signal_group(proc.pid, signal.SIGKILL)
        psutil.wait_procs(alive, timeout=5)
        self.remove()
        return sorted(found)


def _signal_group(pid: int, signum: int) -> None:
    """Signal the child's process group (it leads its own session), or the child alone."""
    try:
        os.killpg(pid, signum)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass


def log_restart(name: str, code: Optional[int], delay: float, restarts: int, log: Path) -> None:
    """One line on stderr: which child, how it ended, when it comes back. No argv, no environment."""
    print(f"{name} 意外退出 (退出码 {code}), {delay:.1f} 秒后重启 (第 {restarts} 次), 日志: {log}",
          file=sys.stderr, flush=True)


def terminate(proc: subprocess.Popen) -> None:
    """SIGTERM to the child's process group, without waiting."""
    if proc.poll() is None:
        _signal_group(proc.pid, signal.SIGTERM)


def stop_process(proc: Optional[subprocess.Popen], timeout: float = 15.0) -> None:
    """SIGTERM the child's group, SIGKILL after ``timeout``; always reaped."""
    if proc is None:
        return
    if proc.poll() is None:
        _signal_group(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _signal_group(proc.pid, signal.SIGKILL)
        proc.wait()
