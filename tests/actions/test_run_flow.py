"""action_run_flow (actions/flows.py): the one action the rules run after the identity check."""
from __future__ import annotations

from pathlib import Path

import yaml

from actions.flows import FLOW_ACTIONS, ActionRunFlow
from actions.refunds import ActionRefundCheck

from .conftest import followup, make_tracker, run, slot_events, verified

ROOT = Path(__file__).resolve().parents[2]
FOOD_LATE = "2023112215300012345"
FOOD_PAID_FAILED = "2023112209000054321"


def _domain() -> dict:
    merged: dict = {"actions": [], "slots": {}}
    for path in sorted((ROOT / "domain").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        # an action is its name, or {name: {send_domain: ...}} (domain/forms.yml)
        merged["actions"] += [a if isinstance(a, str) else next(iter(a)) for a in data.get("actions") or []]
        merged["slots"].update(data.get("slots") or {})
    return merged


def test_every_flow_the_intent_can_name_has_an_action_in_the_domain():
    domain = _domain()
    flows = set(domain["slots"]["current_flow"]["values"])
    assert flows == set(FLOW_ACTIONS), "current_flow values and actions/flows.py FLOW_ACTIONS differ"
    assert "action_run_flow" in domain["actions"]
    # still in the domain by name: other actions chain them with FollowupAction
    assert {cls().name() for cls in FLOW_ACTIONS.values()} <= set(domain["actions"])


def test_the_flow_of_current_flow_runs_with_its_own_replies_and_events(svc):
    tracker = make_tracker(slots=verified(FOOD_LATE, current_flow="refund"))
    assert run(ActionRunFlow(), tracker)[:2] == run(ActionRefundCheck(), tracker)[:2]
    responses, events, _ = run(ActionRunFlow(), make_tracker(slots=verified(FOOD_LATE, current_flow="status")))
    assert responses[0] == "utter_status_food_delivering" and responses[-1] == "utter_ask_resolved"
    assert slot_events(events) == {"pending": "resolved"}


def test_a_chained_flow_is_still_chained(svc):
    """A refund of money taken for a failed order goes on to the payment check."""
    _, events, _ = run(ActionRunFlow(), make_tracker(slots=verified(FOOD_PAID_FAILED, current_flow="refund")))
    assert followup(events) == "action_payment_check" and slot_events(events)["current_flow"] == "payment"


def test_a_number_first_or_no_flow_asks_what_happened(svc):
    for flow in ("open", None):
        responses, events, _ = run(ActionRunFlow(), make_tracker(slots=verified(FOOD_LATE, current_flow=flow)))
        assert responses[-1] == "utter_ask_problem", flow
        assert slot_events(events) == {"current_flow": None}
