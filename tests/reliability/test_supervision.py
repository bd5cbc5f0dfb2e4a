"""Issue 13, supervision: kill -9 of any child heals, children die with the runner, a stale stack is cleaned.

Before: kill -9 of the action server or of Rasa stopped every service and
nothing restarted them; kill -9 of bot.runner.stack left 4 orphans serving, and the
next `make run` failed with 端口已被占用.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict

import psutil
import pytest

from bot.runner.stack_process import StackProcess
from tests.reliability.conftest import Live, start_stack, wait_for

RESTARTED: Dict[str, float] = {}


@pytest.mark.parametrize("service", ["actions", "handoff", "redis", "rasa"])
def test_a_killed_child_is_restarted_and_the_stack_answers_again(live: Live, service: str) -> None:
    old = live.kill(service)
    start = time.monotonic()
    back = wait_for(lambda: live.pid(service) != old and live.healthy(service), timeout=240)
    assert back is not None, f"{service} was not restarted within 240 s:\n" + "".join(live.stack.lines[-20:])
    answered = wait_for(live.answers, timeout=120)
    assert answered is not None, f"the stack did not answer after {service} came back"
    RESTARTED[service] = time.monotonic() - start
    print(f"\nkill -9 {service}: serving again after {back:.1f} s, answering a customer after "
          f"{RESTARTED[service]:.1f} s")
    logged = "".join(live.stack.lines)
    assert f"{service} 意外退出 (退出码 -9)" in logged, "the restart was not logged"
    assert "TOKEN" not in logged and "Bearer" not in logged, "a restart log line carries a secret"


def test_children_die_with_a_killed_runner_and_the_next_start_succeeds(tmp_path: Path) -> None:
    first = start_stack(tmp_path)
    children = list(first.stack.processes().values())
    assert len(children) == 4, children
    os.kill(first.stack.proc.pid, signal.SIGKILL)
    first.stack.proc.wait(timeout=30)
    gone, alive = psutil.wait_procs(children, timeout=60)
    print(f"\nkill -9 of the runner: {len(gone)} of {len(children)} children stopped with it")
    assert not alive, f"orphans left serving: {[p.pid for p in alive]}"
    # the same ports and data dir, as a second `make run` would use
    second = Live(StackProcess(first.stack.env, timeout=400, follow=True), tmp_path)
    try:
        assert second.answers()
    finally:
        second.stack.stop()


def _listener(port: int) -> subprocess.Popen:
    """A process holding ``port`` in its own session, like a child of a runner that is gone."""
    code = ("import socket,time;s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);"
            f"s.bind(('127.0.0.1',{port}));s.listen();time.sleep(600)")
    proc = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        time.sleep(0.1)
    raise RuntimeError("listener did not start")


def _record(data: Path, **children: subprocess.Popen) -> None:
    dead_runner = {"pid": 999999, "created": 1.0}
    entries = {name: {"pid": p.pid, "created": psutil.Process(p.pid).create_time()} for name, p in children.items()}
    (data / "stack.pid").write_text(json.dumps({"stack": dead_runner, "children": entries}), encoding="utf-8")


def test_a_stale_stack_is_cleaned_but_a_stranger_on_the_port_is_not_killed(tmp_path: Path) -> None:
    env = StackProcess.free_env(tmp_path, KEFU_DEMO_AGENTS="1")
    stranger = _listener(int(env["KEFU_RASA_PORT"]))
    try:  # not named in stack.pid: not ours, so the start refuses in one line and leaves it alone
        tmp_path.mkdir(exist_ok=True)
        refused = subprocess.run([sys.executable, "-m", "bot.runner.stack"], env=env, capture_output=True,
                                 text=True, timeout=120, cwd=Path(__file__).resolve().parents[2])
        assert refused.returncode == 2 and "已被占用" in refused.stderr, refused.stderr[-500:]
        assert stranger.poll() is None, "a process that is not ours was killed"
    finally:
        stranger.kill()
        stranger.wait()
    orphan = _listener(int(env["KEFU_RASA_PORT"]))
    _record(tmp_path, rasa=orphan)
    try:
        started = Live(StackProcess(env, timeout=400, follow=True), tmp_path)
    finally:
        if orphan.poll() is None:
            orphan.kill()
        orphan.wait()
    try:
        assert orphan.returncode is not None and orphan.returncode < 0, "the stale child was not stopped"
        assert "已清理" in "".join(started.stack.lines)
        assert started.answers()
    finally:
        started.stack.stop()
