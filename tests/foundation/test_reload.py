"""`make reload` swaps the model under a running stack without losing an
ongoing conversation's slots or a customer queued for a person."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import redis

from core.paths import ROOT
from bot.runner.stack_process import StackProcess


def test_reload_keeps_slots_and_queued_handoff(tmp_path: Path) -> None:
    stack = StackProcess(StackProcess.free_env(tmp_path))
    try:
        rasa = stack.url("rasa")
        say = lambda sender, text: httpx.post(f"{rasa}/webhooks/kefu/webhook", json={"sender": sender, "message": text}, timeout=60)
        # A customer in the middle of an order look-up...
        assert say("reload-a", "我的外卖到哪了").status_code == 200
        assert say("reload-a", "2023112215300012345").status_code == 200
        token = (tmp_path / "rasa_token.secret").read_text().strip()
        before = httpx.get(f"{rasa}/conversations/reload-a/tracker", params={"token": token}, timeout=30).json()
        assert before["slots"].get("order_id")
        # ...and one waiting for a person.
        assert say("reload-b", "转人工").status_code == 200
        client = redis.Redis.from_url(stack.url("redis"))
        queued = {k for k in client.keys("kefu:handoff:*")}
        assert queued

        env = dict(os.environ, KEFU_RASA_PORT=stack.env["KEFU_RASA_PORT"], KEFU_DATA_DIR=str(tmp_path))
        result = subprocess.run([sys.executable, "-m", "bot.runner.reload"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr

        after = httpx.get(f"{rasa}/conversations/reload-a/tracker", params={"token": token}, timeout=30).json()
        assert after["slots"]["order_id"] == before["slots"]["order_id"]
        assert len(after["events"]) >= len(before["events"])
        assert queued <= {k for k in client.keys("kefu:handoff:*")}
        # The bot still answers after the swap.
        reply = say("reload-c", "您好")
        assert reply.status_code == 200 and reply.json()
        client.close()
    finally:
        stack.stop()


def test_reload_without_a_running_stack_says_so(tmp_path: Path) -> None:
    from bot.runner.redis_server import free_port

    env = dict(os.environ, KEFU_RASA_PORT=str(free_port()), KEFU_DATA_DIR=str(tmp_path))
    result = subprocess.run([sys.executable, "-m", "bot.runner.reload"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "重新加载失败" in result.stderr and "Traceback" not in result.stderr
