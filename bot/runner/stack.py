"""Run the whole stack: Redis, action server, Rasa, handoff bridge.

`make run` calls this after set-up. Every port and path comes from the
environment (README, "Environment"). Bad configuration stops start-up with
one line saying what to fix. Ctrl-C (SIGINT) or SIGTERM stops every child
and waits for them, so nothing is left behind. A child that dies is
restarted with back-off, children die with the runner even after kill -9,
and a stale stack of a killed runner is cleaned at the next start
(bot/runner/supervisor.py; README, "Reliability").

Security (README, "Security model", bot/runner/hardening.py): services bind KEFU_HOST
only, no secret on any command line, umask 077 and a 0700 data dir, Rasa's
CORS limited to the configured origins.

The settings and the children's environment are in bot/runner/settings.py, the
foreground loop (health wait, signals, banner) in bot/runner/foreground.py;
both are shared with bot/runner/cluster.py.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from bot.runner.foreground import run_in_foreground, wait_healthy
from bot.runner.hardening import make_private
from bot.runner.redis_server import PASSWORD_SECRET, EmbeddedRedis, RedisServerError, port_in_use
from bot.runner.settings import ConfigError, StackSettings, checked, check_redis, redis_env, service_env
from bot.runner.supervisor import Backoff, RunFile, StaleStackError, log_restart, spawn, stop_process, terminate
from core.paths import ROOT
from core.redis_url import redacted
from core.secrets import demo_tokens_path, stored_secret
from handoff.limits import Limits
from handoff.settings import SettingsError


@dataclass
class Child:
    name: str
    args: List[str]
    health_url: str
    process: Optional[subprocess.Popen] = field(default=None)
    backoff: Backoff = field(default_factory=Backoff)
    #: monotonic time of a pending restart (the child died), None while it runs
    restart_at: Optional[float] = None


class Stack:
    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings
        self.redis: Optional[EmbeddedRedis] = None
        self.children: List[Child] = []
        self.logs = settings.data_dir / "logs"
        self.env: Dict[str, str] = {}
        self.runfile = RunFile(settings.data_dir / "stack.pid")
        self.redis_backoff = Backoff()
        self.redis_restart_at: Optional[float] = None

    def preflight(self) -> None:
        s = self.settings
        try:  # the customer limits, read again by Rasa's channels and the bridge: one line here, not a child's traceback
            Limits.from_env()
        except SettingsError as exc:
            raise ConfigError(str(exc)) from None
        if not any(s.model_path.glob("*.tar.gz")) and not s.model_path.is_file():
            raise ConfigError(f"找不到已训练的模型 {s.model_path}: 请先运行 make train")
        ports = {"KEFU_RASA_PORT": s.rasa_port, "KEFU_ACTIONS_PORT": s.actions_port, "KEFU_HANDOFF_PORT": s.handoff_port}
        if not s.redis_url:
            ports["KEFU_REDIS_PORT"] = s.redis_port
        for name, port in ports.items():
            if port_in_use(port, s.host):
                raise ConfigError(f"端口 {port} 已被占用 ({name}): 请停止占用它的程序, 或设置 {name}=其他端口")
        if len(set(ports.values())) != len(ports):
            raise ConfigError(f"端口设置重复 {ports}: 每个服务需要不同的端口")
        if s.redis_url:
            redis_env(s.redis_url)
            check_redis(s.redis_url)

    def start(self) -> None:
        s = self.settings
        try:  # before the port check: a killed runner's children still hold the ports
            cleaned = self.runfile.clean_stale() if self.runfile.path.exists() else []
        except StaleStackError as exc:
            raise ConfigError(str(exc)) from None
        if cleaned:
            print(f"已清理上次异常退出遗留的进程: {', '.join(cleaned)}", file=sys.stderr, flush=True)
        self.preflight()
        orders_db = os.environ.get("KEFU_ORDERS_DB")
        checked(make_private, s.data_dir, [Path(orders_db)] if orders_db else [])
        self.logs.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Stale tokens from an earlier start must not be printed as current.
        demo_tokens_path(s.data_dir).unlink(missing_ok=True)
        if s.redis_url:
            redis_url = s.redis_url
        else:
            # its own password (generated in the data dir like the other secrets): any local
            # process could otherwise read every conversation
            self.redis = EmbeddedRedis(data_dir=s.data_dir / "redis", port=s.redis_port, host=s.host,
                                       password=stored_secret(s.data_dir, PASSWORD_SECRET))
            self.redis.start()
            self._record("redis", self.redis.process)
            redis_url = self.redis.url
        env = self.env = service_env(s, redis_url)
        self.seed_orders(env)
        python = sys.executable
        self.children = [
            # Host, port and token from the environment (actions/server.py).
            Child("actions", [python, "-m", "actions.server"], f"http://{s.host}:{s.actions_port}/health"),
            Child(
                "rasa",
                [
                    # bot/runner/rasa_main.py adds --auth-token from KEFU_RASA_TOKEN
                    # inside the process: the token is not in this argv.
                    python, "-m", "bot.runner.rasa_main", "run", "--model", str(s.model_path), "--enable-api",
                    "--cors", *s.cors_origins,
                    "--interface", s.host, "--port", str(s.rasa_port),
                    "--credentials", str(s.credentials), "--endpoints", "endpoints.yml",
                ],
                f"http://{s.host}:{s.rasa_port}/",
            ),
        ]
        if (ROOT / "handoff" / "__main__.py").exists():
            self.children.append(
                Child("handoff", [python, "-m", "handoff"], f"http://{s.host}:{s.handoff_port}/health")
            )
        for child in self.children:
            self._spawn(child)
        self.wait_healthy()

    def _spawn(self, child: Child) -> None:
        child.process = spawn(child.args, self.logs / f"{child.name}.log", cwd=ROOT, env=self.env)
        child.backoff.restarted()
        child.restart_at = None
        self._record(child.name, child.process)

    def _record(self, name: str, process: Optional[subprocess.Popen]) -> None:
        if process is not None:
            self.runfile.record(name, process.pid)

    def seed_orders(self, env: Dict[str, str]) -> None:
        """The embedded demo order database, created on first start."""
        if os.environ.get("KEFU_ORDERS_DB") or (s_db := self.settings.data_dir / "orders.sqlite3").exists():
            return
        subprocess.run(
            [sys.executable, "scripts/seed_orders.py", "--db", str(s_db)], cwd=ROOT, env=env,
            check=True, stdout=subprocess.DEVNULL,
        )

    def wait_healthy(self, timeout: float = 300.0) -> None:
        wait_healthy(self.children, self.logs, timeout)

    def urls(self) -> Dict[str, str]:
        s = self.settings
        out = {
            "客户 REST 接口 (customer REST)": f"http://{s.host}:{s.rasa_port}/webhooks/kefu/webhook",
            "客户 socket.io (in-app chat)": f"http://{s.host}:{s.rasa_port}/socket.io",
            "动作服务器 (action server)": f"http://{s.host}:{s.actions_port}/health",
        }
        if any(c.name == "handoff" for c in self.children):
            out["坐席工作台 (agent console)"] = f"http://{s.host}:{s.handoff_port}/console"
            out["客户聊天页 (customer chat page)"] = f"http://{s.host}:{s.handoff_port}/chat"
            if os.environ.get("KEFU_DEV_LOGIN") == "1":
                out["演示登录客户 (signed-in demo customer)"] = f"http://{s.host}:{s.handoff_port}/chat?demo=13812345678"
            out["转人工接口文档 (handoff API)"] = f"http://{s.host}:{s.handoff_port}/openapi.json"
        out["Redis"] = redacted(self.redis.url) if self.redis else "REDIS_URL (external)"
        return out

    def demo_agents(self) -> List[str]:
        """The demo agent token lines the bridge wrote at this start (0600 file, not a log)."""
        path = demo_tokens_path(self.settings.data_dir)
        if not path.exists():
            return []
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        if not lines or not lines[0].startswith("演示坐席"):
            return []
        return [lines[0]] + [line for line in lines[1:] if line.startswith("  ")][:10]

    def stop(self) -> None:
        for child in reversed(self.children):
            if child.process and child.process.poll() is None:
                terminate(child.process)  # all at once, then wait for each
        for child in reversed(self.children):
            stop_process(child.process)
        if self.redis:
            self.redis.stop()
        self.runfile.remove()

    def watch(self) -> int:
        """Block until a signal, restarting any child that dies (with back-off)."""
        while True:
            now = time.monotonic()
            for child in self.children:
                if child.restart_at is None and child.process and child.process.poll() is not None:
                    delay = child.backoff.next_delay()
                    child.restart_at = now + delay
                    log_restart(child.name, child.process.returncode, delay, child.backoff.restarts,
                                self.logs / f"{child.name}.log")
                if child.restart_at is not None and now >= child.restart_at:
                    self._spawn(child)
            self._watch_redis(now)
            time.sleep(0.2)

    def _watch_redis(self, now: float) -> None:
        """The embedded Redis comes back on its port with its AOF data (acknowledged writes kept)."""
        redis = self.redis
        if redis is None:
            return
        if self.redis_restart_at is None and (redis.process is None or redis.process.poll() is not None):
            code = redis.process.returncode if redis.process else None
            delay = self.redis_backoff.next_delay()
            self.redis_restart_at = now + delay
            log_restart("redis", code, delay, self.redis_backoff.restarts, redis.data_dir / "redis.log")
        if self.redis_restart_at is not None and now >= self.redis_restart_at:
            redis.process = None
            try:
                redis.start()
            except RedisServerError as exc:  # the port is taken or it failed: try again later
                print(f"redis 重启失败: {exc}", file=sys.stderr, flush=True)
                self.redis_restart_at = None
                return
            self.redis_backoff.restarted()
            self.redis_restart_at = None
            self._record("redis", redis.process)


def main(argv: Optional[List[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if "--dev-login" in args:
        # `make run` only: the bridge's POST /dev/customer-token signs demo customers'
        # tokens (README, "Customer identity"); an explicit KEFU_DEV_LOGIN=0 wins
        os.environ.setdefault("KEFU_DEV_LOGIN", "1")
    return run_in_foreground(lambda: Stack(StackSettings.from_env()), "Kefu 已启动 (Ctrl-C 停止):",
                             lambda stack: stack.demo_agents())


if __name__ == "__main__":
    sys.exit(main())
