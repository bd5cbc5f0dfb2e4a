"""One running stack (bot.runner.stack.StackProcess) as the end-to-end tests talk to it.

The security and reliability suites each start their own stack and add what
they need on top: token signing, Redis reads, killing children.
"""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Dict, List, Optional

import httpx
import redis

from bot.runner.stack_process import StackProcess
from core.paths import ROOT


@dataclass
class LiveStack:
    stack: StackProcess
    data: Path

    #: how long one customer turn may take (a loaded machine, a restarting service)
    turn_timeout: ClassVar[float] = 60.0

    @property
    def rasa(self) -> str:
        return self.stack.url("rasa")

    @property
    def bridge(self) -> str:
        return self.stack.url("handoff")

    def post(self, body: Dict[str, Any], token: Optional[str] = None,
             timeout: Optional[float] = None) -> httpx.Response:
        """One message on Kefu's REST channel, as an app customer when ``token`` is given."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.post(f"{self.rasa}/webhooks/kefu/webhook", json=body, headers=headers,
                          timeout=timeout or self.turn_timeout)

    def say(self, sender: str, text: str, token: Optional[str] = None, timeout: Optional[float] = None,
            **extra: Any) -> List[Dict[str, Any]]:
        """The bot's replies to ``text`` from ``sender`` (asserts a 200)."""
        resp = self.post({"sender": sender, "message": text, **extra}, token, timeout)
        assert resp.status_code == 200, resp.text[:200]
        return list(resp.json())


def tracker_of(client: "redis.Redis[str]", sender: str) -> Dict[str, Any]:
    """The conversation as Rasa's tracker store keeps it ({"events": []} when there is none)."""
    raw = client.get(f"kefu:tracker:{sender}")
    return json.loads(raw) if raw else {"events": []}


def refused_start(env: Dict[str, str]) -> str:
    """The one line `make run`'s stack prints when a setting stops its start: exit 2, no traceback."""
    result = subprocess.run([sys.executable, "-m", "bot.runner.stack"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2, result.stderr[-800:]
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr[-800:]
    return lines[0]
