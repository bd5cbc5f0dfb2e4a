"""Through the running stack: by default a turn with custom actions needs no action server.

The action server is frozen (SIGSTOP: alive, but answers nothing), and an
order look-up still gets its real reply, from the actions run inside Rasa.
"""
from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any, Iterator, List

import httpx
import pytest

from bot.runner.stack_process import StackProcess

TURNS = [("我的外卖到哪了", "订单号"), ("订单号2023112215300012345", "…2345")]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    data = tmp_path_factory.mktemp("inproc")
    # a short retry window: were the HTTP path used, the frozen server would cost 3 s and an apology, not hang the test
    running = StackProcess(StackProcess.free_env(data, KEFU_ACTION_RETRY_SECONDS="3",
                                                 KEFU_CREDENTIALS="bench/credentials_stock.yml"))
    try:
        yield running
    finally:
        running.stop()


def replies(stack: StackProcess, sender: str, text: str) -> List[str]:
    answer = httpx.post(stack.url("rasa") + "/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60)
    assert answer.status_code == 200
    return [m.get("text", "") for m in answer.json()]


def test_an_order_look_up_is_answered_with_the_action_server_frozen(stack: StackProcess) -> None:
    actions: Any = stack.processes()["actions"]
    os.kill(actions.pid, signal.SIGSTOP)
    try:
        for text, expected in TURNS:
            said = replies(stack, "inproc-1", text)
            assert any(expected in line for line in said), (text, said)
    finally:
        try:
            os.kill(actions.pid, signal.SIGCONT)
        except ProcessLookupError:  # the supervisor replaced it: nothing left to thaw
            pass
    log = (Path(stack.env["KEFU_DATA_DIR"]) / "logs" / "rasa.log").read_text(errors="replace")
    assert "custom actions run in process" in log
