"""Stock Rasa, the baseline of issue 17: the same model, served as Rasa ships it.

``StockStack`` starts, beside a running Kefu stack (:class:`StackProcess`) and
on its Redis (another database, the same password):

- ``python -m rasa run`` with Rasa's own stores (``tracker_store: type: redis``,
  ``lock_store: type: redis``), Rasa's templated NLG (no ``nlg:`` entry) and
  only the stock ``rest`` channel: none of Kefu's speed-ups (the parse cache,
  the plain graph runner, the tracker cache) are installed, since nothing of
  bot/channels is imported;
- rasa_sdk's own action server app (``rasa_sdk.endpoint.create_app``, what
  ``rasa run actions`` serves) with Kefu's action package, bound to 127.0.0.1
  (``rasa run actions`` listens on every interface, which no service here may).

Both read the Kefu stack's data dir, so the actions find the same seeded order
database: a conversation gets the same replies on both (tests/test_bench.py
checks one through the two stacks).
"""
from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import httpx
import psutil
import yaml

from bot.runner.redis_server import free_port
from bot.runner.stack_process import StackProcess
from bot.runner.supervisor import spawn, stop_process, terminate
from core.paths import ROOT
from core.redis_url import RedisSettings

#: the Redis database of the stock stack's trackers and locks (the Kefu stack uses 0, the handoff bench 9)
STOCK_DB = 5
MODEL = ROOT / "models" / "kefu.tar.gz"

#: rasa_sdk's app as `rasa run actions` builds it (rasa_sdk/__main__.py), on loopback only
ACTION_SERVER = (
    "import sys; from rasa_sdk.endpoint import create_app; "
    "create_app('actions').run('127.0.0.1', int(sys.argv[1]), workers=1, access_log=False)"
)


def endpoints_yaml(redis_url: str, actions_port: int) -> str:
    """The stock endpoints file: Rasa's Redis stores on ``redis_url``'s server, database STOCK_DB."""
    settings = RedisSettings.parse(redis_url)
    host, port = settings.hosts[0]
    store = (f"  url: {host}\n  port: {port}\n  db: {STOCK_DB}\n  password: \"{settings.password or ''}\"\n"
             "  key_prefix: stock\n")
    return (f"action_endpoint:\n  url: http://127.0.0.1:{actions_port}/webhook\n"
            f"tracker_store:\n  type: redis\n{store}  record_exp: 604800\n"
            f"lock_store:\n  type: redis\n{store}")


class StockStack:
    """Stock ``rasa run`` and rasa_sdk's action server next to ``kefu``, sharing its Redis and data."""

    def __init__(self, kefu: StackProcess, workdir: Path, workers: int = 1, timeout: float = 300.0) -> None:
        workdir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.rasa_port, self.actions_port = free_port(), free_port()
        endpoints, credentials = workdir / "endpoints.yml", workdir / "credentials.yml"
        for path, text in ((endpoints, endpoints_yaml(kefu.url("redis"), self.actions_port)), (credentials, "rest:\n")):
            path.write_text(text)
            path.chmod(0o600)  # the Redis password
        env = dict(kefu.env, SANIC_WORKERS=str(workers), TF_CPP_MIN_LOG_LEVEL="3", RASA_TELEMETRY_ENABLED="false",
                   PYTHONPATH=str(ROOT), SANIC_ACCESS_LOG="false")
        env.pop("KEFU_ACTIONS_IN_PROCESS", None)
        self.procs: Dict[str, subprocess.Popen] = {}
        self.logs = {name: workdir / f"{name}.log" for name in ("actions", "rasa")}
        try:
            self.procs["actions"] = spawn([sys.executable, "-c", ACTION_SERVER, str(self.actions_port)],
                                          self.logs["actions"], cwd=ROOT, env=env)
            self.procs["rasa"] = spawn([sys.executable, "-m", "rasa", "run", "--model", str(MODEL), "--interface",
                                        "127.0.0.1", "--port", str(self.rasa_port), "--endpoints", str(endpoints),
                                        "--credentials", str(credentials)], self.logs["rasa"], cwd=ROOT, env=env)
            self._wait(f"http://127.0.0.1:{self.actions_port}/health", "actions", timeout)
            self._wait(self.url("rasa") + "/", "rasa", timeout)
        except BaseException:
            self.stop()
            raise

    def _wait(self, url: str, name: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.procs[name].poll() is not None:
                raise RuntimeError(f"stock {name} exited with {self.procs[name].returncode}: see {self.logs[name]}")
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"stock {name} not healthy after {timeout:.0f} s")

    def url(self, service: str) -> str:
        """``rasa`` (the REST channel's server) or ``actions``."""
        return f"http://127.0.0.1:{self.rasa_port if service == 'rasa' else self.actions_port}"

    def processes(self) -> Dict[str, psutil.Process]:
        """{service name: psutil.Process}, for bench/measure.py's memory sampler."""
        return {name: psutil.Process(proc.pid) for name, proc in self.procs.items() if proc.poll() is None}

    def stop(self) -> None:
        """Both servers and their children (Sanic's workers), as the stack runner stops its own."""
        for proc in self.procs.values():
            terminate(proc)
        for proc in self.procs.values():
            stop_process(proc, timeout=60)


def timeless(text: str) -> str:
    """``text`` with minutes, ETAs and clock times as ``#``: they follow the clock, and two stacks answer seconds apart."""
    return re.sub(r"\d{1,2}:\d{2}|\d+(?= ?分钟)", "#", text)


class ResponseNames:
    """Which domain response a reply text is, and with which values: replies compared variant-blind.

    Both NLGs pick one of a response's variants at random, so two stacks that
    answer alike still word some replies differently; the response and the
    values filled into it are what must be the same.
    """

    def __init__(self, domain_dir: Path = ROOT / "domain") -> None:
        self.patterns: List[Tuple[str, "re.Pattern[str]"]] = []
        for path in sorted(domain_dir.glob("*.yml")):
            for name, variants in ((yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("responses") or {}).items():
                for variant in variants:
                    if isinstance(variant, dict) and variant.get("text"):
                        regex = re.sub(r"\\\{\w+\\\}", "(.+?)", re.escape(variant["text"]))
                        self.patterns.append((name, re.compile(regex, re.DOTALL)))

    def turns(self, replies: List[List[str]]) -> List[List[str]]:
        """:meth:`name` of every reply of every turn (``reply_texts``' result), minutes and times masked (timeless)."""
        return [[self.name(timeless(text)) for text in turn] for turn in replies]

    def name(self, text: str) -> str:
        """``utter_x(value, ...)`` for a domain response's text, the text itself for anything else."""
        for name, pattern in self.patterns:
            match = pattern.fullmatch(text)
            if match:
                return f"{name}({', '.join(sorted(match.groups()))})"
        return text


def reply_texts(base_url: str, path: str, sender: str, messages: List[str],
                client: Optional[httpx.Client] = None) -> List[List[str]]:
    """The bot's reply texts to each message of one conversation (for the same-replies check)."""
    own = client or httpx.Client(timeout=60)
    try:
        out = []
        for text in messages:
            resp = own.post(base_url + path, json={"sender": sender, "message": text})
            resp.raise_for_status()
            out.append([r.get("text", "") for r in resp.json()])
        return out
    finally:
        if client is None:
            own.close()
