"""The running stack the conversation suite talks to, started once.

``bot/runner/stack.py`` on free ports with a fresh data dir and its own agents file
(one agent who may see every queue). ``KEFU_CONVERSATION_STACK=/path.json``
({"rasa": url, "handoff": url, "db": path, "token": agent token}) runs the
suite against a stack that is already running, to iterate quickly (the
bridge's internal token is read from the db's data dir).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

from handoff.agents import AgentDirectory
from core.secrets import stored_secret

_OUTCOMES: Dict[str, str] = {}


@dataclass
class LiveStack:
    rasa: str
    handoff: str
    db: Path
    agent_token: str
    #: the bridge's /internal token: which ticket is whose (agents only see a masked handle)
    internal_token: str


@pytest.fixture(scope="session")
def conversation_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    existing = os.environ.get("KEFU_CONVERSATION_STACK")
    if existing:
        info = json.loads(Path(existing).read_text(encoding="utf-8"))
        yield LiveStack(info["rasa"], info["handoff"], Path(info["db"]), info["token"],
                        stored_secret(Path(info["db"]).parent, "internal_token"))
        return
    from bot.runner.stack_process import StackProcess  # the stack runner pulls in psutil and subprocess helpers

    data = tmp_path_factory.mktemp("conversation-stack")
    token = AgentDirectory(data / "agents.json").add("watch", "值班", ["safety", "general", "supervisor"])
    env = StackProcess.free_env(data, KEFU_AGENTS_FILE=str(data / "agents.json"), KEFU_DEMO_AGENTS="0")
    running = StackProcess(env)
    try:
        yield LiveStack(running.url("rasa"), running.url("handoff"), data / "orders.sqlite3", token,
                        stored_secret(data, "internal_token"))
    finally:
        running.stop()


def pytest_runtest_logreport(report: Any) -> None:
    if "tests/conversations/test_conversations.py::test_scenario" not in report.nodeid:
        return
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        _OUTCOMES[report.nodeid] = report.outcome


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _OUTCOMES:
        return
    passed = sum(1 for outcome in _OUTCOMES.values() if outcome == "passed")
    terminalreporter.write_line(f"conversations: passed={passed}/{len(_OUTCOMES)}")
    failed: List[str] = [node.split("[", 1)[-1].rstrip("]") for node, o in _OUTCOMES.items() if o != "passed"]
    for name in failed:
        terminalreporter.write_line(f"  failed: {name}")
