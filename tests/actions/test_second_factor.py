"""The second factor before acting on an anonymous customer's order (actions/second_factor.py)."""
from __future__ import annotations

import sqlite3

import pytest

from actions.answers import ActionAnswer
from actions.cancel import ActionCancelExecute, ActionReassignExecute
from actions.change_info import ActionChangeInfoExecute
from actions.invoice import ActionInvoiceRecord
from actions.orders import ActionOrderStatus
from actions.refunds import ActionRefundExecute
from orders.validation import owner_answer_matches
from core.identity import CLAIMS_KEY

from .conftest import followup, make_tracker, run, slot_events

FOOD_LATE = "2023112215300012345"       # 陈女士 13812345678
FOOD_PREPARING = "2023112210150011111"  # 周女士 13700002222
RIDE_LATE = "R20231122001234"           # 陈女士


@pytest.mark.parametrize("answer", ["5678", "尾号5678", "５６７８", "是 5678 吧", "13812345678", "138 1234 5678"])
def test_phone_tail_accepts_the_last_four_digits_or_the_phone(answer: str) -> None:
    assert owner_answer_matches("phone_tail", answer, "13812345678", "陈女士")


@pytest.mark.parametrize("answer", ["1234", "5678 1234", "0000 5678", "567", "", "陈"])
def test_phone_tail_refuses_other_digits_and_lists_of_guesses(answer: str) -> None:
    assert not owner_answer_matches("phone_tail", answer, "13812345678", "陈女士")


@pytest.mark.parametrize("answer", ["陈", "姓陈", "我姓陈", "陈女士", "免贵姓陈", "陈小红"])
def test_surname_accepts_the_surname_alone_or_with_a_name(answer: str) -> None:
    assert owner_answer_matches("surname", answer, "13812345678", "陈女士")


@pytest.mark.parametrize("answer", ["刘", "赵钱孙李周吴郑王冯陈", "我不知道", "", "5678"])
def test_surname_refuses_another_or_a_list(answer: str) -> None:
    assert not owner_answer_matches("surname", answer, "13812345678", "陈女士")


def anonymous(order_id: str, via: str = "order", **extra: object) -> dict:
    return {"order_id": order_id, "verified": True, "verified_by": via, **extra}


def test_acting_asks_the_factor_first_and_changes_nothing(svc) -> None:
    responses, events, _ = run(ActionCancelExecute(), make_tracker("确认", "affirm", slots=anonymous(FOOD_PREPARING)))
    assert responses == ["utter_factor_ask_phone_tail"]
    assert slot_events(events) == {"pending": "second_factor", "factor_for": "action_cancel_execute", "held_answer": None}
    assert svc.find_order(FOOD_PREPARING).status == "preparing"


def test_a_customer_who_gave_a_phone_is_asked_the_surname(svc) -> None:
    responses, _, _ = run(ActionRefundExecute(), make_tracker("好", "affirm", slots=anonymous(FOOD_LATE, "phone")))
    assert responses == ["utter_factor_ask_surname"]
    assert not svc.refunds_for_order(FOOD_LATE)


def test_the_right_answer_runs_the_action_it_held(svc) -> None:
    slots = anonymous(FOOD_PREPARING, pending="second_factor", factor_for="action_cancel_execute")
    responses, events, _ = run(ActionAnswer(), make_tracker("2222", "inform", slots=slots))
    assert responses == ["utter_factor_ok"] and followup(events) == "action_cancel_execute"
    assert slot_events(events)["factor_ok"] == FOOD_PREPARING
    responses, _, _ = run(ActionCancelExecute(), make_tracker("2222", "inform", slots={**slots, "factor_ok": FOOD_PREPARING}))
    assert "utter_cancel_done" in responses and svc.find_order(FOOD_PREPARING).status == "cancelled"


def test_wrong_answers_ask_again_then_a_person(svc) -> None:
    slots = anonymous(FOOD_PREPARING, pending="second_factor", factor_for="action_cancel_execute")
    responses, events, _ = run(ActionAnswer(), make_tracker("1111", "inform", slots=slots))
    assert responses == ["utter_factor_wrong_phone_tail"] and slot_events(events) == {"factor_attempts": 1}
    responses, events, _ = run(ActionAnswer(), make_tracker("3333", "inform", slots={**slots, "factor_attempts": 1}))
    assert responses == ["utter_factor_failed_handoff"] and followup(events) == "action_handoff"
    assert slot_events(events)["handoff_reason"] == "identity_failed"
    assert svc.find_order(FOOD_PREPARING).status == "preparing"


def test_every_attempt_is_audited_without_the_answer(svc, db_path) -> None:
    svc.verify_owner(FOOD_LATE, "phone_tail", "0000")
    svc.verify_owner(FOOD_LATE, "phone_tail", "5678")
    with sqlite3.connect(db_path) as db:
        rows = db.execute("SELECT detail FROM audit WHERE action = 'verify_owner'").fetchall()
    assert [r[0] for r in rows] == ['{"kind": "phone_tail", "ok": false}', '{"kind": "phone_tail", "ok": true}']


def test_the_address_given_before_the_factor_is_the_one_recorded(svc) -> None:
    _, events, _ = run(ActionChangeInfoExecute(), make_tracker("改成西湖区文二路88号", "change_order_info",
                                                               slots=anonymous(FOOD_PREPARING)))
    assert slot_events(events)["held_answer"] == "改成西湖区文二路88号"
    slots = anonymous(FOOD_PREPARING, factor_ok=FOOD_PREPARING, held_answer="改成西湖区文二路88号")
    responses, events, _ = run(ActionChangeInfoExecute(), make_tracker("2222", "inform", slots=slots))
    assert "utter_change_info_done" in responses and slot_events(events)["held_answer"] is None
    records = svc.records_for_order(FOOD_PREPARING, "change")
    assert records and records[-1].data["request"] == "改成西湖区文二路88号"


def test_the_email_given_before_the_factor_gets_the_invoice(svc) -> None:
    slots = anonymous("2023112112000067890", factor_ok="2023112112000067890", held_answer="liu.xs@qq.com")
    responses, _, _ = run(ActionInvoiceRecord(), make_tracker("1111", "inform", slots=slots))
    assert "utter_invoice_done" in responses


def test_signed_in_customers_and_looking_are_never_asked(svc) -> None:
    tracker = make_tracker("好", "affirm", slots=anonymous(FOOD_LATE))
    tracker.latest_message["metadata"] = {CLAIMS_KEY: {"sub": "c1", "phone": "13812345678"}}
    responses, _, _ = run(ActionRefundExecute(), tracker)
    assert "utter_refund_done" in responses
    responses, _, _ = run(ActionOrderStatus(), make_tracker(slots=anonymous(FOOD_LATE)))
    assert "utter_factor_ask_phone_tail" not in responses


def test_a_free_reassignment_is_not_gated(svc) -> None:
    responses, _, _ = run(ActionReassignExecute(), make_tracker("换个司机", "cancel_order", slots=anonymous(RIDE_LATE)))
    assert responses[0] == "utter_reassign_done_ride"
