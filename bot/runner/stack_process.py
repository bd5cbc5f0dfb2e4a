"""``StackProcess``: a ``python -m bot.runner.stack`` child on free ports, for tests and benchmarks."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, List

import psutil

from core.paths import ROOT
from bot.runner.redis_server import EmbeddedRedis, free_port, stored_password
from bot.runner.supervisor import die_with_parent


class StackProcess:
    """A `python -m bot.runner.stack` child on free ports: for tests and benchmarks.

    Blocks until the stack prints that it started (or fails with its output).
    """

    def __init__(self, env: Dict[str, str], timeout: float = 300.0, follow: bool = False) -> None:
        """``follow``: keep reading the output into ``lines`` after start-up (restart notices)."""
        self.env = env
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.runner.stack"], cwd=ROOT, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            preexec_fn=die_with_parent(os.getpid()),  # a killed test run leaves no stack behind
        )
        self.lines: List[str] = []
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.lines.append(line)
            if line.startswith("Kefu 已启动"):
                while not self.lines[-1].startswith("  Redis"):
                    self.lines.append(self.proc.stdout.readline())
                if follow:  # otherwise the caller may read on (tests/security reads the token lines)
                    threading.Thread(target=self._read_rest, daemon=True).start()
                return
        self.stop()
        raise RuntimeError("stack did not start:\n" + "".join(self.lines))

    def _read_rest(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    @staticmethod
    def free_env(data_dir: Path, **extra: str) -> Dict[str, str]:
        """The environment for a stack on free ports with its own data dir."""
        env = dict(os.environ)
        env.pop("REDIS_URL", None)
        env.update(
            KEFU_DATA_DIR=str(data_dir),
            KEFU_RASA_PORT=str(free_port()),
            KEFU_ACTIONS_PORT=str(free_port()),
            KEFU_HANDOFF_PORT=str(free_port()),
            KEFU_REDIS_PORT=str(free_port()),
            TF_CPP_MIN_LOG_LEVEL="3",
        )
        env.update(extra)
        return env

    def url(self, service: str) -> str:
        """A service's URL; the embedded Redis's carries its password (from the data dir)."""
        port = self.env[f"KEFU_{service.upper()}_PORT"]
        if service != "redis":
            return f"http://127.0.0.1:{port}"
        data = Path(self.env["KEFU_DATA_DIR"])
        return EmbeddedRedis(data_dir=data / "redis", port=int(port), password=stored_password(data)).url

    def processes(self) -> Dict[str, Any]:
        """{service name: psutil.Process} of the running children."""
        found: Dict[str, Any] = {}
        for proc in psutil.Process(self.proc.pid).children(recursive=True):
            try:
                cmd = " ".join(proc.cmdline())
            except psutil.Error:
                continue
            if "redis-server" in cmd:
                found.setdefault("redis", proc)
            elif "-m actions.server" in cmd:
                found.setdefault("actions", proc)
            elif "-m handoff" in cmd:
                found.setdefault("handoff", proc)
            elif " run --model" in cmd:
                found.setdefault("rasa", proc)
        return found

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=90)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
