"""`make run`'s stack: starts, answers on both channels, stops cleanly,
keeps Redis data across restarts, and refuses bad configuration in one line."""
from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path
from typing import Dict, Iterator, List

import httpx
import psutil
import pytest
import redis

from core.paths import ROOT
from bot.runner.redis_server import free_port
from bot.runner.stack_process import StackProcess
from tests.live import refused_start

def stack_env(data_dir: Path, **extra: str) -> Dict[str, str]:
    return StackProcess.free_env(data_dir, **extra)


class RunningStack(StackProcess):
    @property
    def rasa(self) -> str:
        return self.url("rasa")

    @property
    def redis_url(self) -> str:
        return self.url("redis")

    def descendants(self) -> List[psutil.Process]:
        return psutil.Process(self.proc.pid).children(recursive=True)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("stack")


@pytest.fixture(scope="module")
def stack(data_dir: Path) -> Iterator[RunningStack]:
    running = RunningStack(stack_env(data_dir))
    yield running
    running.stop()


def test_prints_the_urls(stack: RunningStack) -> None:
    text = "".join(stack.lines)
    assert f"{stack.rasa}/webhooks/kefu/webhook" in text
    assert "socket.io" in text


def test_the_embedded_redis_wants_its_password_which_is_in_no_argv_or_output(stack: RunningStack, data_dir: Path) -> None:
    """Any local process could otherwise read every conversation in the tracker store."""
    password = (data_dir / "redis_password.secret").read_text().strip()
    port = stack.env["KEFU_REDIS_PORT"]
    with pytest.raises(redis.exceptions.AuthenticationError):
        redis.Redis(host="127.0.0.1", port=int(port)).get("kefu:anything")
    assert redis.Redis.from_url(stack.redis_url).ping()
    argv = [" ".join(p.cmdline()) for p in stack.descendants()]
    assert any("redis-server" in a for a in argv) and not any(password in a for a in argv)
    assert password not in "".join(stack.lines)


def test_rest_channel_greets_in_chinese(stack: RunningStack) -> None:
    reply = httpx.post(f"{stack.rasa}/webhooks/kefu/webhook", json={"sender": "a", "message": "您好"}, timeout=30)
    assert reply.status_code == 200
    texts = [m.get("text", "") for m in reply.json()]
    assert texts and "您好" in texts[0]


def test_socketio_channel_greets_in_chinese(stack: RunningStack) -> None:
    import socketio

    received: List[dict] = []
    client = socketio.Client()
    client.on("bot_uttered", lambda data: received.append(data))
    client.connect(stack.rasa, socketio_path="/socket.io", transports=["websocket"])
    try:
        client.emit("session_request", {"session_id": "sock-1"})
        time.sleep(0.3)
        client.emit("user_uttered", {"message": "您好", "session_id": "sock-1"})
        deadline = time.monotonic() + 20
        while not received and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        client.disconnect()
    assert received and "您好" in received[0]["text"]


def test_request_human_is_answered_from_the_domain(stack: RunningStack) -> None:
    reply = httpx.post(f"{stack.rasa}/webhooks/kefu/webhook", json={"sender": "b", "message": "转人工"}, timeout=30)
    assert reply.status_code == 200
    texts = " ".join(m.get("text", "") for m in reply.json())
    assert "人工" in texts or "客服" in texts


def test_tracker_lives_in_redis(stack: RunningStack) -> None:
    httpx.post(f"{stack.rasa}/webhooks/kefu/webhook", json={"sender": "redis-check", "message": "您好"}, timeout=30)
    client = redis.Redis.from_url(stack.redis_url)
    assert any(b"redis-check" in key for key in client.keys("kefu*"))


def test_ctrl_c_leaves_nothing_and_restart_keeps_redis_data(stack: RunningStack, data_dir: Path) -> None:
    client = redis.Redis.from_url(stack.redis_url)
    client.set("kefu:test:survives", "是的")
    client.close()
    children = stack.descendants()
    assert len(children) >= 3  # redis, actions, rasa (+ handoff)
    stack.stop()
    assert stack.proc.returncode == 0
    time.sleep(0.5)
    assert not [p for p in children if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]

    again = RunningStack(stack.env)
    try:
        client = redis.Redis.from_url(again.redis_url)
        assert client.get("kefu:test:survives").decode() == "是的"
        client.close()
    finally:
        again.stop()


def test_unreachable_redis_url_stops_with_one_clear_line(tmp_path: Path) -> None:
    assert "REDIS_URL" in refused_start(stack_env(tmp_path, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"))


def test_port_taken_stops_with_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        line = refused_start(stack_env(tmp_path, KEFU_RASA_PORT=str(port)))
    assert str(port) in line and "KEFU_RASA_PORT" in line


def test_second_make_run_needs_no_training_or_install() -> None:
    result = subprocess.run(["make", "-q", "install", "spacy", "train"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, "make would reinstall or retrain although nothing changed"
