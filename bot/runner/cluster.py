"""Scale-out on one machine: N Rasa servers, N action servers, N bridges on one Redis, behind nginx.

    python -m bot.runner.cluster --rasa 2 --actions 2 --bridges 2     # make cluster N=2

The same processes `make run` starts (bot/runner/stack.py), started N times on free
ports, with nginx (deploy/nginx.conf.template) on the usual front ports
``KEFU_RASA_PORT``, ``KEFU_HANDOFF_PORT`` and ``KEFU_ACTIONS_PORT``. What they
share, and why it is enough (README, "Scale-out"):

- Redis (``REDIS_URL``, or an embedded redis-server on ``KEFU_REDIS_PORT``):
  Rasa's tracker and lock stores (a conversation's messages may reach
  different Rasa servers; the lock keeps them in order), the handoff queue and
  its event stream (an agent on any bridge sees every ticket), socket.io's
  Redis manager (a bridge's emit reaches a customer's socket on any Rasa server);
- the secrets (``KEFU_RASA_TOKEN``, ``KEFU_INTERNAL_TOKEN``,
  ``KEFU_ACTION_TOKEN``, ``KEFU_CUSTOMER_JWT_SECRET``), the model, the agents
  file and the order database;
- every instance calls the others through nginx (``KEFU_ACTION_URL``,
  ``KEFU_HANDOFF_URL``, ``RASA_URL`` name the front ports), so a dead instance
  is skipped without reconfiguring anyone.

Demo agents are created once here (the bridges run with ``KEFU_DEMO_AGENTS=0``
so that a second bridge does not replace the first one's tokens); their
tokens go to ``$KEFU_DATA_DIR/cluster_agents.txt`` (0600). This runner does
not restart a dead instance: nginx routes around it, and a supervisor (or
bot/runner/stack.py's) brings it back.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from bot.runner.foreground import run_in_foreground, wait_healthy
from bot.runner.hardening import make_private
from bot.runner.redis_server import PASSWORD_SECRET, EmbeddedRedis, free_port, port_in_use
from bot.runner.settings import ConfigError, StackSettings, check_redis, redis_env, service_env
from core.paths import ROOT
from core.redis_url import redacted
from core.secrets import private_write, stored_secret
from handoff.agents import AgentDirectory

TEMPLATE = ROOT / "deploy" / "nginx.conf.template"
#: how nginx marks an instance down: one failure, skipped for this long
UPSTREAM_OPTIONS = "max_fails=1 fail_timeout=10s"


def nginx_binary() -> Optional[str]:
    """Debian's nginx (``make nginx`` installs it), or None."""
    found = shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None


def render_nginx(template: str, *, prefix: Path, listen: str, rasa_port: int, bridge_port: int,
                 actions_port: int, rasa: List[int], actions: List[int], bridges: List[int],
                 host: str = "127.0.0.1") -> str:
    """The template with every ``@@NAME@@`` filled; ValueError if one is left."""

    def servers(ports: List[int]) -> str:
        return "\n".join(f"        server {host}:{port} {UPSTREAM_OPTIONS};" for port in ports)

    values = {
        "PREFIX": str(prefix), "LISTEN": listen, "RASA_PORT": str(rasa_port), "BRIDGE_PORT": str(bridge_port),
        "ACTIONS_PORT": str(actions_port), "RASA_SERVERS": servers(rasa), "ACTION_SERVERS": servers(actions),
        "BRIDGE_SERVERS": servers(bridges),
    }
    text = template
    for name, value in values.items():
        text = text.replace(f"@@{name}@@", value)
    if "@@" in text:
        raise ValueError("nginx template: a placeholder was left unfilled")
    return text


@dataclass
class Instance:
    """One child process: ``rasa-1``, ``actions-2``, ``handoff-1``, ``nginx``."""

    name: str
    args: List[str]
    health_url: str
    port: int
    env: Dict[str, str] = field(default_factory=dict, repr=False)
    process: Optional[subprocess.Popen] = None

    @property
    def kind(self) -> str:
        return self.name.partition("-")[0]


class Cluster:
    """Start, watch and stop N of each service and nginx in front of them."""

    def __init__(self, settings: StackSettings, rasa: int = 2, actions: int = 2, bridges: int = 2,
                 demo_agents: bool = True) -> None:
        if min(rasa, actions, bridges) < 1:
            raise ConfigError("每种服务至少需要 1 个实例 (at least one instance of each)")
        self.settings = settings
        self.counts = {"rasa": rasa, "actions": actions, "handoff": bridges}
        self.demo_agents = demo_agents
        self.redis: Optional[EmbeddedRedis] = None
        self.instances: List[Instance] = []
        self.logs = settings.data_dir / "logs"
        self.nginx_dir = settings.data_dir / "nginx"
        self.redis_url = ""

    # ---- start -------------------------------------------------------------------------------

    def preflight(self) -> str:
        s = self.settings
        binary = nginx_binary()
        if binary is None:
            raise ConfigError("找不到 nginx: 请运行 make nginx (Debian 的 nginx 软件包)")
        if not any(s.model_path.glob("*.tar.gz")) and not s.model_path.is_file():
            raise ConfigError(f"找不到已训练的模型 {s.model_path}: 请先运行 make train")
        front = {"KEFU_RASA_PORT": s.rasa_port, "KEFU_ACTIONS_PORT": s.actions_port,
                 "KEFU_HANDOFF_PORT": s.handoff_port}
        for name, port in front.items():
            if port_in_use(port, s.host):
                raise ConfigError(f"端口 {port} 已被占用 ({name}): 请停止占用它的程序, 或设置 {name}=其他端口")
        if s.redis_url:
            redis_env(s.redis_url)
            check_redis(s.redis_url)
        return binary

    def start(self, timeout: float = 600.0) -> None:
        s = self.settings
        nginx = self.preflight()
        orders_db = os.environ.get("KEFU_ORDERS_DB")
        make_private(s.data_dir, [Path(orders_db)] if orders_db else [])
        self.logs.mkdir(mode=0o700, parents=True, exist_ok=True)
        if s.redis_url:
            self.redis_url = s.redis_url
        else:
            self.redis = EmbeddedRedis(data_dir=s.data_dir / "redis", port=s.redis_port, host=s.host,
                                       password=stored_secret(s.data_dir, PASSWORD_SECRET)).start()
            self.redis_url = self.redis.url
        base = service_env(s, self.redis_url)
        # one set of agents for every bridge, made before any bridge starts (module doc)
        base["KEFU_DEMO_AGENTS"] = "0"
        base.setdefault("KEFU_AGENTS_FILE", str(s.data_dir / "agents.json"))
        self._seed(base)
        self.instances = self._plan(base)
        self.instances.append(self._nginx(nginx))
        for inst in self.instances:
            log = open(self.logs / f"{inst.name}.log", "ab")
            inst.process = subprocess.Popen(inst.args, cwd=ROOT, env=inst.env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
            log.close()
        self.wait_healthy(timeout)

    def _seed(self, env: Dict[str, str]) -> None:
        db = Path(env.get("KEFU_ORDERS_DB") or self.settings.data_dir / "orders.sqlite3")
        if not db.exists():
            subprocess.run([sys.executable, "scripts/seed_orders.py", "--db", str(db)], cwd=ROOT, env=env,
                           check=True, stdout=subprocess.DEVNULL)
        if self.demo_agents:
            tokens = AgentDirectory(Path(env["KEFU_AGENTS_FILE"])).seed_demo()
            lines = ["演示坐席 (demo agents, tokens change at every start):"]
            lines += [f"  {agent_id}: {token}" for agent_id, token in tokens.items()]
            private_write(self.agents_path, "\n".join(lines) + "\n")

    @property
    def agents_path(self) -> Path:
        return self.settings.data_dir / "cluster_agents.txt"

    def _plan(self, base: Dict[str, str]) -> List[Instance]:
        s, py, planned = self.settings, sys.executable, []
        for i in range(1, self.counts["actions"] + 1):
            port = free_port(s.host)
            planned.append(Instance(f"actions-{i}", [py, "-m", "actions.server"], f"http://{s.host}:{port}/health",
                                    port, dict(base, KEFU_ACTIONS_PORT=str(port))))
        for i in range(1, self.counts["rasa"] + 1):
            port = free_port(s.host)
            args = [py, "-m", "bot.runner.rasa_main", "run", "--model", str(s.model_path), "--enable-api",
                    "--cors", *s.cors_origins, "--interface", s.host, "--port", str(port),
                    "--credentials", "credentials.yml", "--endpoints", "endpoints.yml"]
            planned.append(Instance(f"rasa-{i}", args, f"http://{s.host}:{port}/", port, dict(base)))
        for i in range(1, self.counts["handoff"] + 1):
            port = free_port(s.host)
            planned.append(Instance(f"handoff-{i}", [py, "-m", "handoff"], f"http://{s.host}:{port}/health", port,
                                    dict(base, KEFU_HANDOFF_PORT=str(port), KEFU_HANDOFF_HOST=s.host)))
        return planned

    def _nginx(self, binary: str) -> Instance:
        s = self.settings
        self.nginx_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        ports = {kind: [i.port for i in self.instances if i.kind == kind] for kind in self.counts}
        conf = render_nginx(TEMPLATE.read_text(encoding="utf-8"), prefix=self.nginx_dir, listen=s.host,
                            rasa_port=s.rasa_port, bridge_port=s.handoff_port, actions_port=s.actions_port,
                            rasa=ports["rasa"], actions=ports["actions"], bridges=ports["handoff"], host=s.host)
        path = self.nginx_dir / "nginx.conf"
        path.write_text(conf, encoding="utf-8")
        args = [binary, "-p", str(self.nginx_dir), "-c", str(path), "-e", str(self.nginx_dir / "error.log")]
        # through nginx to a Rasa server: healthy once both nginx and one Rasa answer
        return Instance("nginx", args, f"http://{s.host}:{s.rasa_port}/", s.rasa_port, {"PATH": os.environ.get("PATH", "")})

    def wait_healthy(self, timeout: float) -> None:
        wait_healthy(self.instances, self.logs, timeout)

    # ---- use ---------------------------------------------------------------------------------

    def instance(self, name: str) -> Instance:
        return next(i for i in self.instances if i.name == name)

    def urls(self) -> Dict[str, str]:
        s = self.settings
        out = {
            "客户入口 nginx (REST, socket.io)": f"http://{s.host}:{s.rasa_port}",
            "坐席工作台 nginx (agent console)": f"http://{s.host}:{s.handoff_port}/console",
            "动作服务器 nginx (action servers)": f"http://{s.host}:{s.actions_port}",
        }
        for inst in self.instances:
            if inst.kind != "nginx":
                out[inst.name] = f"http://{s.host}:{inst.port}"
        out["Redis"] = redacted(self.redis.url) if self.redis else "REDIS_URL (external)"
        return out

    def kill(self, name: str) -> None:
        """kill -9 of one instance (its process group): what a crash looks like."""
        inst = self.instance(name)
        if inst.process and inst.process.poll() is None:
            os.killpg(inst.process.pid, signal.SIGKILL)
            inst.process.wait()

    def stop(self) -> None:
        for inst in reversed(self.instances):
            if inst.process and inst.process.poll() is None:
                try:
                    os.killpg(inst.process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for inst in reversed(self.instances):
            if inst.process:
                try:
                    inst.process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(inst.process.pid, signal.SIGKILL)
                    inst.process.wait()
        if self.redis:
            self.redis.stop()

    def watch(self) -> int:
        """Block until a signal; report instances that die (nginx routes around them)."""
        reported: set = set()
        while True:
            for inst in self.instances:
                if inst.process and inst.process.poll() is not None and inst.name not in reported:
                    reported.add(inst.name)
                    print(f"{inst.name} 意外退出 (退出码 {inst.process.returncode}), 日志: "
                          f"{self.logs / (inst.name + '.log')}", file=sys.stderr, flush=True)
                    if inst.kind == "nginx":
                        return 1
            time.sleep(0.5)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.runner.cluster", description="N of each Kefu service behind nginx")
    parser.add_argument("--rasa", type=int, default=2)
    parser.add_argument("--actions", type=int, default=2)
    parser.add_argument("--bridges", type=int, default=2)
    args = parser.parse_args(argv)
    return run_in_foreground(
        lambda: Cluster(StackSettings.from_env(), args.rasa, args.actions, args.bridges), "Kefu 集群已启动 (Ctrl-C 停止):",
        lambda cluster: [f"  演示坐席令牌 (demo agent tokens): {cluster.agents_path}"])


if __name__ == "__main__":
    sys.exit(main())
