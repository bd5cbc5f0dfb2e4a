"""The cached action-reply check accepts and rejects exactly what Rasa's own does."""
from __future__ import annotations

from typing import Any, Dict

import pytest
from jsonschema import ValidationError, validate
from rasa.core.actions.action import RemoteAction

from bot import speedups

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


def test_valid_reply_passes_both_checks() -> None:
    validate(VALID, RemoteAction.action_response_format_spec())
    assert speedups._validate_action_result(None, VALID) is True


@pytest.mark.parametrize("reply", INVALID)
def test_invalid_reply_fails_both_checks_with_rasas_message(reply: Dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        validate(reply, RemoteAction.action_response_format_spec())
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        speedups._validate_action_result(None, reply)


def test_install_replaces_rasas_check_once() -> None:
    original = RemoteAction._validate_action_result
    try:
        speedups.install()
        speedups.install()
        assert RemoteAction._validate_action_result is speedups._validate_action_result
    finally:
        RemoteAction._validate_action_result = original  # type: ignore[method-assign]
        speedups._installed = False
