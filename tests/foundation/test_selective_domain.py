"""Custom action calls carry the domain only for the action that reads it (endpoints.yml, domain/forms.yml).

Rasa sends the whole domain, every response included (53 KB of JSON, more
than a 10-turn tracker), with every custom action call unless the action
endpoint enables the selective domain; encoding the calls was 12.6% of the
Rasa server's samples under load. The identity form's
validation (rasa_sdk's FormValidationAction) reads the form's required slots
from it, so it is the one action marked ``send_domain: true``; the
conversation suite runs it end to end.
"""
from __future__ import annotations

from typing import Any, Dict

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.core.utils import AvailableEndpoints
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain"))


@pytest.fixture()
def endpoints(monkeypatch: pytest.MonkeyPatch) -> AvailableEndpoints:
    for name, value in {"KEFU_ACTION_URL": "http://127.0.0.1:1/webhook", "KEFU_ACTION_TOKEN": "t",
                        "KEFU_REDIS_HOST": "127.0.0.1", "KEFU_REDIS_PORT": "1", "KEFU_REDIS_DB": "0",
                        "KEFU_REDIS_PASSWORD": "p"}.items():
        monkeypatch.setenv(name, value)
    return AvailableEndpoints.read_endpoints(str(ROOT / "endpoints.yml"))


def _call(name: str, endpoints: AvailableEndpoints, domain: Domain) -> Dict[str, Any]:
    tracker = DialogueStateTracker.from_events("selective", [
        ActionExecuted("action_listen"), UserUttered("我的外卖到哪了", {"name": "query_order_status", "confidence": 1.0})],
        domain.slots)
    return RemoteAction(name, endpoints.action)._action_call_format(tracker, domain)


def test_order_actions_are_called_without_the_domain(endpoints: AvailableEndpoints, domain: Domain) -> None:
    for name in ("action_order_status", "action_handoff", "action_answer", "action_ask_order_id"):
        assert name in domain.user_actions, name
        body = _call(name, endpoints, domain)
        assert "domain" not in body and body["tracker"]["sender_id"] == "selective", name


def test_the_identity_form_validation_gets_the_domain_it_reads(endpoints: AvailableEndpoints, domain: Domain) -> None:
    body = _call("validate_identity_form", endpoints, domain)
    assert body["domain"]["forms"]["identity_form"]["required_slots"] == ["order_id"]
