"""Running a stack or a cluster in the foreground: wait until healthy, print, supervise, stop.

``python -m bot.runner.stack`` and ``python -m bot.runner.cluster`` share it:
the umask before anything is created, Ctrl-C and SIGTERM as one clean stop,
exit code 2 with one line on bad configuration.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Dict, List, Optional, Protocol, Sequence, TypeVar

from bot.runner.hardening import PRIVATE_UMASK
from bot.runner.redis_server import RedisServerError
from bot.runner.settings import ConfigError


class Service(Protocol):
    """A started service that answers 200 on its health URL when ready."""

    name: str
    health_url: str
    process: Optional[subprocess.Popen]


def healthy(url: str) -> bool:
    """Whether ``url`` answers 200 within 2 s."""
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def wait_healthy(children: Sequence[Service], logs: Path, timeout: float) -> None:
    """Block until every child is healthy; ConfigError (naming its log) if one exits or time runs out."""
    deadline = time.monotonic() + timeout
    pending = list(children)
    while pending:
        for child in list(pending):
            assert child.process is not None
            if child.process.poll() is not None:
                raise ConfigError(
                    f"{child.name} 启动失败 (退出码 {child.process.returncode}), 日志: {logs / (child.name + '.log')}"
                )
            if healthy(child.health_url):
                pending.remove(child)
        if time.monotonic() > deadline:
            names = ", ".join(c.name for c in pending)
            raise ConfigError(f"{names} 在 {int(timeout)} 秒内没有就绪, 日志在 {logs}")
        time.sleep(0.5)


class _Interrupted(Exception):
    pass


def _raise_interrupt(signum: int, frame: object) -> None:
    raise _Interrupted()


class Runner(Protocol):
    """What :func:`run_in_foreground` drives: a Stack or a bot.runner.cluster.Cluster."""

    def start(self) -> None: ...
    def urls(self) -> Dict[str, str]: ...
    def watch(self) -> int: ...
    def stop(self) -> None: ...


R = TypeVar("R", bound=Runner)


def run_in_foreground(make: Callable[[], R], banner: str, extra_lines: Callable[[R], List[str]]) -> int:
    """Start, print the URLs (and ``extra_lines``), supervise until Ctrl-C or SIGTERM, stop.

    The umask is set before anything is created (secrets, logs, Redis AOF,
    SQLite files), so the children inherit it. Exit code 2 on bad configuration.
    """
    os.umask(PRIVATE_UMASK)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGINT, _raise_interrupt)
    try:
        runner = make()
    except ConfigError as exc:
        print(f"配置错误: {exc}", file=sys.stderr)
        return 2
    code = 0
    try:
        runner.start()
        print(banner, flush=True)
        for name, url in runner.urls().items():
            print(f"  {name}: {url}", flush=True)
        for line in extra_lines(runner):
            print(line, flush=True)
        code = runner.watch()
    except (ConfigError, RedisServerError) as exc:
        print(f"启动失败: {exc}", file=sys.stderr)
        code = 2
    except _Interrupted:
        print("正在停止…", flush=True)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        runner.stop()
    return code
