"""Hot-path fixes: the cached action-reply check rejects what Rasa's own does; the parse cache answers as the NLU does."""
from __future__ import annotations

import asyncio
from typing import Any, Dict, Iterator

import pytest
import rasa.core.processor
import rasa.server
from jsonschema import ValidationError, validate
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.domain import Domain

from bot.channels import speedups
from bot.dialogue import prior_states
from bot.dialogue.graph_runner import PlainGraphRunner
from tests.model import agent

VALID: Dict[str, Any] = {
    "events": [{"event": "slot", "name": "order_id", "value": "2023112215300012345"}],
    "responses": [{"response": "utter_order_status_food", "eta": "10分钟"}],
}
INVALID = [
    {"events": [{"event": "slot", "value": "x"}]},  # slot without a name
    {"events": "not a list"},
    {"responses": ["not an object"]},
    {"events": [{"event": "no_such_event"}]},
]


REPLIES = [
    VALID,
    {"events": [{"event": "active_loop", "name": "identity_form"}, {"event": "followup", "name": "action_listen"},
                {"event": "pause"}, {"event": "restart"}, {"event": "reminder", "intent": "x", "date_time": "2026-11-23T10:00:00"}],
     "responses": []},
    {"events": [{"event": "slot", "name": "phone_number", "value": None, "timestamp": 1.5}], "responses": [{"text": "您好"}]},
    {},
    *INVALID,
    {"events": [{"event": "slot", "name": 42, "value": "x"}]},
    {"responses": {"not": "a list"}},
]


@pytest.mark.parametrize("reply", REPLIES)
def test_the_fast_check_agrees_with_rasas_validator(reply: Dict[str, Any]) -> None:
    fast = speedups._fast_action_reply_validator()
    assert fast is not None, "jsonschema_rs is pinned in requirements.txt"
    assert fast.is_valid(reply) == speedups._action_reply_validator().is_valid(reply)


def test_valid_reply_passes_both_checks() -> None:
    validate(VALID, RemoteAction.action_response_format_spec())
    assert speedups._validate_action_result(None, VALID) is True


@pytest.mark.parametrize("reply", INVALID)
def test_invalid_reply_fails_both_checks_with_rasas_message(reply: Dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        validate(reply, RemoteAction.action_response_format_spec())
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        speedups._validate_action_result(None, reply)


@pytest.fixture()
def installed() -> Iterator[None]:
    original_check, original_parse = RemoteAction._validate_action_result, MessageProcessor._parse_message_with_graph
    original_events = rasa.server.validate_events_in_request_body
    original_runner = rasa.core.processor.DaskGraphRunner
    try:
        speedups.install()
        speedups.install()
        yield
    finally:
        RemoteAction._validate_action_result = original_check  # type: ignore[method-assign]
        MessageProcessor._parse_message_with_graph = original_parse  # type: ignore[method-assign]
        rasa.server.validate_events_in_request_body = original_events
        rasa.core.processor.DaskGraphRunner = original_runner  # type: ignore[misc]
        speedups._installed = False
        speedups._original_parse = speedups._original_events_check = None
        prior_states.uninstall()


def test_install_replaces_rasas_check_once(installed: None) -> None:
    assert RemoteAction._validate_action_result is speedups._validate_action_result
    assert MessageProcessor._parse_message_with_graph is speedups._parse_message_with_graph
    assert rasa.core.processor.DaskGraphRunner is PlainGraphRunner  # models loaded from now on
    assert speedups._original_parse is not speedups._parse_message_with_graph, "installed twice: it would call itself"
    assert Domain.states_for_tracker_history is prior_states.states_for_tracker_history


class FakeRequest:
    """What validate_events_in_request_body reads of a Sanic request."""

    def __init__(self, body: Any) -> None:
        self.json = body


TRACKER_EVENTS = [
    ([{"event": "pause"}], True),
    ({"event": "bot", "text": "您好,我是人工客服小李", "metadata": {"from": "agent", "agent_name": "小李"}}, True),
    ([{"event": "resume"}, {"event": "action", "name": "action_listen"}], True),
    ([{"event": "slot", "name": "handoff_reason", "value": None}], True),
    ([{"event": "no_such_event"}], False),
    ([{"text": "no event key"}], False),
    ("not events", False),
]


@pytest.mark.parametrize("body,ok", TRACKER_EVENTS)
def test_tracker_event_writes_are_checked_as_rasa_checks_them(installed: None, body: Any, ok: bool) -> None:
    from rasa.server import ErrorResponse

    def rasas(request: Any) -> bool:
        try:
            speedups._original_events_check(request)  # type: ignore[misc]
            return True
        except ErrorResponse:
            return False

    assert rasas(FakeRequest(body)) is ok
    if ok:
        rasa.server.validate_events_in_request_body(FakeRequest(body))
    else:
        with pytest.raises(ErrorResponse) as refused:
            rasa.server.validate_events_in_request_body(FakeRequest(body))
        assert refused.value.status == 400 and "Failed to validate the events format" in refused.value.error_info["message"]


def parse(text: str) -> Dict[str, Any]:
    return asyncio.run(agent().processor.parse_message(UserMessage(text, sender_id="cache-test")))


def test_a_repeated_text_is_understood_the_same_without_the_nlu(installed: None) -> None:
    cache = speedups.parse_cache(agent().processor)
    first = parse("我的订单2023112215300012345到哪了")
    hits = cache.hits
    second = parse("我的订单2023112215300012345到哪了")
    assert cache.hits == hits + 1
    assert second["intent"] == first["intent"] and second["entities"] == first["entities"]
    assert [e["value"] for e in second["entities"] if e["entity"] == "order_id"] == ["2023112215300012345"]


def test_another_text_is_not_given_a_cached_answer(installed: None) -> None:
    parse("我的订单2023112215300012345到哪了")
    other = parse("我的订单2023112215300099999到哪了")
    assert [e["value"] for e in other["entities"] if e["entity"] == "order_id"] == ["2023112215300099999"]
    assert parse("有人受伤了")["intent"]["name"] == "report_safety"


def test_a_caller_changing_its_parse_cannot_change_the_next(installed: None) -> None:
    first = parse("谢谢你")
    name = first["intent"]["name"]
    first["intent"]["name"] = "report_safety"
    first["entities"].append({"entity": "order_id", "value": "x"})
    again = parse("谢谢你")
    assert again["intent"]["name"] == name and again["entities"] == []


def test_the_parse_cache_is_bounded() -> None:
    cache = speedups.ParseCache(size=2)
    for text in ("你好", "谢谢", "再见"):
        cache.put(text, {"text": text})
    assert list(cache.entries) == ["谢谢", "再见"]
    assert cache.get("你好") is None
