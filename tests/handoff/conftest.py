"""Fixtures for the handoff bridge: a real redis-server (tests/conftest.py),
agents with known tokens, and the app with a recording stand-in for Rasa's
HTTP API (Rasa itself is not started in these tests)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator, Dict, Iterator, List

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from handoff.agents import AgentDirectory
from handoff.app import build_service, create_app
from handoff.queue import HandoffQueue
from handoff.relay import RasaClient
from handoff.settings import Settings

INTERNAL_TOKEN = "internal-test-token"


@dataclass
class RasaRecorder:
    """Records what the bridge sends to Rasa's HTTP API."""

    events: Dict[str, List[Dict[str, Any]]] = field(default_factory=dict)
    triggered: List[Dict[str, Any]] = field(default_factory=list)

    def app(self) -> Starlette:
        async def tracker_events(request: Request) -> JSONResponse:
            assert request.query_params.get("token") == "rasa-test-token"
            body = json.loads(await request.body())
            self.events.setdefault(request.path_params["sender"], []).extend(body if isinstance(body, list) else [body])
            return JSONResponse({"ok": True})

        async def trigger(request: Request) -> JSONResponse:
            body = json.loads(await request.body())
            sender = request.path_params["sender"]
            self.triggered.append({"sender": sender, **body})
            self.events.setdefault(sender, []).append({"event": "user", "text": "EXTERNAL: " + body["name"]})
            text = "请问您对本次服务满意吗?请为我们打分。"
            self.events[sender].append({"event": "bot", "text": text})
            return JSONResponse({"tracker": {}, "messages": [
                {"recipient_id": sender, "text": text, "buttons": [{"title": "5分", "payload": "/rate{\"rating\":5}"}]}
            ]})

        return Starlette(routes=[
            Route("/conversations/{sender}/tracker/events", tracker_events, methods=["POST"]),
            Route("/conversations/{sender}/trigger_intent", trigger, methods=["POST"]),
        ])


@dataclass
class Bridge:
    client: TestClient
    settings: Settings
    tokens: Dict[str, str]
    rasa: RasaRecorder

    def agent(self, agent_id: str) -> Dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[agent_id]}"}

    @property
    def internal(self) -> Dict[str, str]:
        return {"Authorization": f"Bearer {INTERNAL_TOKEN}"}

    def escalate(self, sender: str, **extra: Any) -> Dict[str, Any]:
        body = {"sender": sender, "channel": "rest", "reason": "request_human", "summary": "客户要求转人工"}
        body.update(extra)
        resp = self.client.post("/internal/escalate", json=body, headers=self.internal)
        assert resp.status_code == 201, resp.text
        return dict(resp.json())


def make_settings(redis_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    values: Dict[str, Any] = dict(
        redis_url=redis_url, rasa_url="http://rasa.test", rasa_token="rasa-test-token",
        internal_token=INTERNAL_TOKEN, lease_seconds=30, agents_file=tmp_path / "agents.json",
        data_dir=tmp_path, demo_agents=False, web_dir=None, reaper_interval=0.2,
    )
    values.update(overrides)
    return Settings(**values)


def add_agents(path: Path) -> Dict[str, str]:
    directory = AgentDirectory(path)
    return {
        "safe1": directory.add("safe1", "小王", ["safety", "general"]),
        "gen1": directory.add("gen1", "小李", ["general"]),
        "gen2": directory.add("gen2", "小张", ["general", "refund"]),
    }


def start_bridge(settings: Settings, tokens: Dict[str, str]) -> Iterator[Bridge]:
    recorder = RasaRecorder()
    service = build_service(settings)
    service.relay.rasa = RasaClient(
        settings.rasa_url, settings.rasa_token,
        client=httpx.AsyncClient(transport=httpx.ASGITransport(app=recorder.app()), base_url=settings.rasa_url),
    )
    app = create_app(settings, service=service)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Bridge(client, settings, tokens, recorder)


@pytest.fixture()
def bridge(redis_url: str, tmp_path: Path) -> Iterator[Bridge]:
    settings = make_settings(redis_url, tmp_path)
    yield from start_bridge(settings, add_agents(settings.agents_file))


@pytest.fixture()
async def queue(redis_url: str) -> AsyncIterator[HandoffQueue]:
    q = HandoffQueue.from_url(redis_url, lease_seconds=30, max_chats=3)
    yield q
    await q.close()


class ThreadedBridge:
    """The bridge app served by uvicorn on a real port, in a thread of this process."""

    def __init__(self, settings: Settings, port: int) -> None:
        import uvicorn

        self.recorder = RasaRecorder()
        service = build_service(settings)
        service.relay.rasa = RasaClient(
            settings.rasa_url, settings.rasa_token,
            client=httpx.AsyncClient(transport=httpx.ASGITransport(app=self.recorder.app()), base_url=settings.rasa_url),
        )
        self.service = service
        config = uvicorn.Config(create_app(settings, service=service), host="127.0.0.1", port=port,
                                log_level="warning", ws="wsproto", lifespan="on", timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)
        self.url = f"http://127.0.0.1:{port}"

    def __enter__(self) -> "ThreadedBridge":
        import threading
        import time

        import asyncio

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=lambda: self.loop.run_until_complete(self.server.serve()), daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started or not self.service.masker.ready:
            assert time.monotonic() < deadline and self.thread.is_alive(), "bridge did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        if self.thread.is_alive():
            self.server.force_exit = True
            self.thread.join(timeout=5)
        assert not self.thread.is_alive(), "the bridge thread kept running (its reaper would touch later tests)"


@pytest.fixture(autouse=True)
def no_test_hangs_forever() -> Iterator[None]:
    """A stuck test dumps every thread's stack and ends the run instead of hanging CI."""
    import faulthandler
    import sys

    faulthandler.dump_traceback_later(120, exit=True, file=sys.stderr)
    yield
    faulthandler.cancel_dump_traceback_later()
