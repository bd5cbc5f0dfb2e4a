"""In-process custom actions (bot/dialogue/local_actions.py) give Rasa exactly what the HTTP action server gives.

The same rasa_sdk actions (tests/foundation/probe_actions) are served by
actions/server.py over HTTP, with its token, and run in process; Rasa's own
``RemoteAction.run`` calls each way on generated trackers, and the events,
the replies and the failures must be the same.
"""
from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import time
from typing import Any, Dict, Iterator, List, Tuple

import httpx
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.core.processor import MessageProcessor
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.utils.endpoints import EndpointConfig
from sanic.request import json_loads as sanic_json_loads

from bench.conversations import conversation
from bot.dialogue import local_actions
from bot.runner.redis_server import free_port
from tests.conftest import ROOT

PROBES = "tests.foundation.probe_actions"
ACTIONS = ["action_probe_echo", "action_probe_reject", "action_probe_crash", "action_probe_nothing",
           "action_probe_bad_event", "action_probe_mutate", "action_no_such_action"]
TOKEN = "probe-token-" + "x" * 20


@pytest.fixture(scope="module")
def http_endpoint() -> Iterator[EndpointConfig]:
    """actions/server.py's app serving the probe actions on a free port, token required."""
    port = free_port()
    code = ("import os, sys; from actions.server import build_app; "
            f"build_app(os.environ['KEFU_ACTION_TOKEN'], package={PROBES!r}).run('127.0.0.1', int(sys.argv[1]), workers=1)")
    env = dict(os.environ, KEFU_ACTION_TOKEN=TOKEN, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", code, str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "probe action server did not start"
            time.sleep(0.2)
        yield EndpointConfig(url + "/webhook", headers={"Authorization": f"Bearer {TOKEN}"})
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def local_endpoint(http_endpoint: EndpointConfig) -> EndpointConfig:
    endpoint = local_actions.local_endpoint(http_endpoint, local_actions.executor_for(PROBES))
    assert isinstance(endpoint, local_actions.InProcessActionEndpoint)
    return endpoint


def generated_tracker(seed: int) -> DialogueStateTracker:
    """A conversation of bench/conversations.py as Rasa would have logged it, with noisy parse data."""
    rng = random.Random(seed)
    tracker = DialogueStateTracker(f"probe-{seed}", [])
    tracker.update(ActionExecuted("action_listen"))
    for step, text in conversation(seed):
        confidence = rng.random()
        parse = {"text": text, "intent": {"name": step, "confidence": confidence},
                 "entities": [{"entity": "order_id", "value": "2023112215300012345", "start": 0, "end": 19,
                               "extractor": "SpacyEntityExtractor"}] if rng.random() < 0.5 else [],
                 "intent_ranking": [{"name": step, "confidence": confidence}, {"name": "inform", "confidence": 1 - confidence}],
                 "problems": ["report_delay"] if rng.random() < 0.3 else []}
        tracker.update(UserUttered(text, parse["intent"], parse["entities"], parse,
                                   metadata={"channel": "kefu", "客户": "陈女士", "n": rng.randint(0, 2**40)}))
        tracker.update(ActionExecuted(rng.choice(["utter_greet", "action_order_status", "action_listen"])))
        if rng.random() < 0.6:
            tracker.update(SlotSet(rng.choice(["order_id", "pending", "phone_number"]),
                                   rng.choice(["2023112215300012345", None, 1.25, ["a", "b"], {"k": "值"}])))
        tracker.update(BotUttered(f"好的 {step} 🙏", {"elements": None, "custom": {"x": rng.random()}}))
        tracker.update(ActionExecuted("action_listen"))
    return tracker


async def outcome(endpoint: EndpointConfig, name: str, tracker: DialogueStateTracker) -> Tuple[Any, ...]:
    """What RemoteAction.run gives Rasa: the events (without their local timestamps), or the failure."""
    domain = Domain.empty()
    try:
        events = await RemoteAction(name, endpoint).run(CollectingOutputChannel(), TemplatedNaturalLanguageGenerator({}),
                                                        tracker, domain)
    except Exception as exc:
        return ("raised", type(exc).__name__, str(exc), type(exc.__cause__).__name__, str(exc.__cause__))
    dicts: List[Dict[str, Any]] = [{k: v for k, v in e.as_dict().items() if k != "timestamp"} for e in events]
    return ("events", dicts)


@pytest.mark.parametrize("seed", range(12))
def test_every_probe_gives_rasa_the_same_over_http_and_in_process(seed: int, http_endpoint: EndpointConfig,
                                                                   local_endpoint: EndpointConfig) -> None:
    tracker = generated_tracker(seed)

    async def both() -> None:
        for name in ACTIONS:
            over_http = await outcome(http_endpoint, name, tracker)
            in_process = await outcome(local_endpoint, name, tracker)
            assert in_process == over_http, name

    asyncio.run(both())


def test_the_echo_saw_the_whole_tracker_and_the_failures_are_the_action_servers(
        http_endpoint: EndpointConfig, local_endpoint: EndpointConfig) -> None:
    tracker = generated_tracker(3)
    echoed = asyncio.run(outcome(local_endpoint, "action_probe_echo", tracker))
    slots = {e["name"]: e["value"] for e in echoed[1] if e["event"] == "slot"}
    assert slots["echo_state"]["latest_message"]["text"] == tracker.latest_message.text
    assert len(slots["echo_state"]["events"]) == len(tracker.events)
    assert slots["echo_big"] == 2**60 + 1 and slots["echo_float"] == 0.1 + 0.2
    rejected = asyncio.run(outcome(local_endpoint, "action_probe_reject", tracker))
    assert rejected[1] == "ActionExecutionRejection" and "不适用于这一轮" in rejected[2]
    crashed = asyncio.run(outcome(local_endpoint, "action_probe_crash", tracker))
    assert crashed[1] == "RasaException" and "500" in crashed[4]
    assert "13812345678" not in crashed[4], "the failure must not carry the customer's data back (actions/server.py)"
    missing = asyncio.run(outcome(local_endpoint, "action_no_such_action", tracker))
    assert "404" in missing[4]


def test_an_action_changing_its_tracker_in_place_cannot_change_rasas(local_endpoint: EndpointConfig) -> None:
    for seed in range(5):
        tracker = generated_tracker(seed)
        before = tracker.current_state(EventVerbosity.ALL)
        assert asyncio.run(outcome(local_endpoint, "action_probe_mutate", tracker)) == ("events", [])
        assert tracker.current_state(EventVerbosity.ALL) == before


def test_the_http_action_server_still_wants_its_token(http_endpoint: EndpointConfig) -> None:
    body = {"next_action": "action_probe_echo", "tracker": generated_tracker(1).current_state(EventVerbosity.ALL), "version": "3.6.21"}
    assert httpx.post(str(http_endpoint.url), json=body, timeout=10).status_code == 401
    ok = httpx.post(str(http_endpoint.url), json=body, headers=http_endpoint.headers, timeout=10)
    assert ok.status_code == 200 and ok.json()["events"]


TRICKY = [float("nan"), float("inf"), -float("inf"), 2**64, 2**63, -(2**63) - 1, 10**30, {1: "a", 2.5: "b"},
          {True: 1, None: 2}, ("a", (1, 2)), "\ud800", "中文😀\u0000\n\"/\\", 1e-320, 0.1 + 0.2, -0.0,
          [], {}, None, True]


def _as_server_reads(text: str) -> str:
    # repr: nan != nan, and 1 == 1.0 == True would hide a changed type
    return repr(sanic_json_loads(text.encode()))


def test_the_body_decodes_to_what_json_dumps_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(7)
    floats = [rng.random() * 10 ** rng.randint(-300, 300) * rng.choice((1, -1)) for _ in range(20000)]
    values: List[Any] = [*TRICKY, floats] + [generated_tracker(seed).current_state(EventVerbosity.ALL) for seed in range(12)]
    for value in values:
        assert _as_server_reads(local_actions.client_dumps(value)) == _as_server_reads(json.dumps(value))

    def refuses(value: Any) -> str:
        raise OverflowError("what ujson may refuse")

    monkeypatch.setattr(local_actions.BaseHTTPResponse, "_dumps", staticmethod(refuses))
    assert local_actions.client_dumps({"a": [1, 2]}) == json.dumps({"a": [1, 2]})
    with pytest.raises(TypeError):  # what aiohttp's json.dumps raises, not ujson's refusal
        local_actions.client_dumps({"a": object()})


@pytest.mark.parametrize("off", ["0", "false", "no", "off", " 0 "])
def test_the_setting_turns_it_off(monkeypatch: pytest.MonkeyPatch, off: str) -> None:
    def loaded(self: Any, *args: Any, **kwargs: Any) -> None:  # stands for Rasa's model load
        self.action_endpoint = None

    monkeypatch.setattr(MessageProcessor, "__init__", loaded)
    monkeypatch.setenv(local_actions.SETTING_ENV, off)
    assert local_actions.install(PROBES) is False and MessageProcessor.__init__ is loaded


def test_on_by_default_and_with_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    configured = EndpointConfig("http://127.0.0.1:1/webhook", headers={"Authorization": "Bearer x"})

    def loaded(self: Any, *args: Any, **kwargs: Any) -> None:  # stands for Rasa's model load
        self.action_endpoint = configured

    monkeypatch.setattr(MessageProcessor, "__init__", loaded)
    for setting in (None, "1"):
        if setting is None:
            monkeypatch.delenv(local_actions.SETTING_ENV, raising=False)
        else:
            monkeypatch.setenv(local_actions.SETTING_ENV, setting)
        try:
            assert local_actions.install(PROBES) is True and local_actions.install(PROBES) is True
            processor = MessageProcessor.__new__(MessageProcessor)
            MessageProcessor.__init__(processor)
            endpoint = processor.action_endpoint
            assert isinstance(endpoint, local_actions.InProcessActionEndpoint)
            assert (endpoint.url, endpoint.headers, endpoint.kwargs) == (configured.url, configured.headers, configured.kwargs)
        finally:
            MessageProcessor.__init__ = loaded  # type: ignore[method-assign]
            local_actions._original_init = None
