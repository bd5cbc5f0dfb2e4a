"""`python -m handoff` as a real process: crash recovery and API fuzzing."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.runner.redis_server import EmbeddedRedis, free_port
from handoff.agents import AgentDirectory
from tests.conftest import ROOT

INTERNAL = "internal-process-token"


class BridgeProcess:
    def __init__(self, redis_url: str, tmp: Path, lease: int = 3) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env: Dict[str, str] = dict(
            os.environ,
            REDIS_URL=redis_url,
            KEFU_HANDOFF_HOST="127.0.0.1",
            KEFU_HANDOFF_PORT=str(self.port),
            KEFU_AGENTS_FILE=str(tmp / "agents.json"),
            KEFU_DEMO_AGENTS="0",
            KEFU_DATA_DIR=str(tmp),
            KEFU_INTERNAL_TOKEN=INTERNAL,
            KEFU_RASA_TOKEN="t",
            RASA_URL=f"http://127.0.0.1:{free_port()}",
            KEFU_HANDOFF_LEASE_SECONDS=str(lease),
            TF_CPP_MIN_LOG_LEVEL="3",
        )
        self.log = tmp / "bridge.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> "BridgeProcess":
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "handoff"], cwd=ROOT, env=self.env,
            stdout=open(self.log, "ab"), stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()[-2000:]
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("bridge did not start: " + self.log.read_text()[-2000:])

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def running(redis_server: EmbeddedRedis, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[BridgeProcess, Dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("bridge")
    directory = AgentDirectory(tmp / "agents.json")
    tokens = {"a1": directory.add("a1", "小王", ["safety"]), "a2": directory.add("a2", "小李", [])}
    bridge = BridgeProcess(redis_server.url, tmp)
    yield bridge.start(), tokens
    bridge.stop()


@pytest.fixture()
def process(running: tuple[BridgeProcess, Dict[str, str]], redis_url: str) -> tuple[BridgeProcess, Dict[str, str]]:
    """The shared bridge process, on a freshly flushed database."""
    return running


def test_kill_9_during_a_claim_returns_the_ticket_within_its_lease(process: tuple[BridgeProcess, Dict[str, str]]) -> None:
    bridge, tokens = process
    internal = {"Authorization": f"Bearer {INTERNAL}"}
    first = httpx.post(bridge.url + "/internal/escalate", headers=internal, json={
        "sender": "k1", "reason": "anger", "summary": "骑手态度差,客户很生气",
        "transcript": [{"role": "user", "text": "骑手态度太差了", "ts": 1}, {"role": "bot", "text": "非常抱歉", "ts": 2}],
    }).json()
    second = httpx.post(bridge.url + "/internal/escalate", headers=internal, json={"sender": "k2", "reason": "anger"}).json()
    tid = first["ticket_id"]
    agent = {"Authorization": f"Bearer {tokens['a1']}"}
    assert httpx.post(f"{bridge.url}/api/tickets/{tid}/claim", headers=agent).status_code == 200
    httpx.post(bridge.url + "/internal/customer-message", headers=internal, json={"sender": "k1", "text": "人呢?"})

    bridge.kill9()  # the agent's console loses the bridge: nobody renews the lease
    claimed_at = time.monotonic()
    bridge.start()
    restarted_at = time.monotonic()

    other = {"Authorization": f"Bearer {tokens['a2']}"}
    while True:
        ticket = httpx.get(f"{bridge.url}/api/tickets/{tid}", headers=other)
        if ticket.status_code == 200 and ticket.json()["state"] == "waiting":
            break
        waited = time.monotonic() - max(restarted_at, claimed_at + 3)
        assert waited < 8, "the ticket did not come back when its lease ran out"
        time.sleep(0.2)
    data = ticket.json()
    assert data["position"] == 1, "the ticket lost its place in the queue"
    assert [m["text"] for m in data["transcript"]][:2] == ["骑手态度太差了", "非常抱歉"]
    assert "人呢?" in [m["text"] for m in data["transcript"]]
    assert data["summary"] == "骑手态度差,客户很生气" and data["priority"] == "P1"
    queue = httpx.get(bridge.url + "/api/queue", headers=other).json()["tickets"]
    assert [t["id"] for t in queue] == [tid, second["ticket_id"]]
    retaken = httpx.post(f"{bridge.url}/api/tickets/{tid}/claim", headers=other)
    assert retaken.status_code == 200 and retaken.json()["owner"] == "a2"
    expired = httpx.post(f"{bridge.url}/api/tickets/{tid}/messages", headers=agent, json={"text": "您好"})
    assert expired.status_code in (403, 409) and expired.json()["error"] in ("not_owner", "lease_expired")


def test_fuzz_the_served_openapi_document(process: tuple[BridgeProcess, Dict[str, str]]) -> None:
    """Generated valid and invalid requests for every operation: never a 5xx."""
    import schemathesis
    from schemathesis import GenerationMode

    bridge, tokens = process
    schema = schemathesis.openapi.from_url(bridge.url + "/openapi.json")
    auth = {
        "/api": {"Authorization": f"Bearer {tokens['a1']}"},
        "/internal": {"Authorization": f"Bearer {INTERNAL}"},
        "/customer": {"Authorization": "Bearer not-a-customer-token"},
    }
    strategy = st.one_of(schema.as_strategy(generation_mode=GenerationMode.POSITIVE),
                         schema.as_strategy(generation_mode=GenerationMode.NEGATIVE))
    seen: set[str] = set()

    @settings(max_examples=100, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def check(case: "schemathesis.Case") -> None:
        headers = next((h for prefix, h in auth.items() if case.path.startswith(prefix)), {})
        if case.headers and "Authorization" in case.headers:
            headers = {}
        response = case.call(base_url=bridge.url, headers=headers)
        seen.add(case.operation.label)
        assert response.status_code < 500, (case.operation.label, response.status_code, response.text[:300])
        if response.status_code >= 400:
            body = response.json()
            assert "error" in body and "detail" in body

    check()
    assert len(seen) >= 10, seen
    assert "Traceback" not in bridge.log.read_text()
