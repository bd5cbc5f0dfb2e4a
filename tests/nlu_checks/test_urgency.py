"""Several sentences in one message (issue 14): the most urgent or most
specific problem decides (safety > damage/delay/payment > other requests >
status > small talk); the others stay in ``problems`` for the dialogue."""
from __future__ import annotations

from typing import Dict, List

import pytest
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.urgency import UrgencyResolver, clauses
from tests.model import parse


def _message(text: str, ranking: Dict[str, float]) -> Message:
    rows: List[Dict] = [{"name": n, "confidence": c} for n, c in sorted(ranking.items(), key=lambda kv: -kv[1])]
    return Message(data={TEXT: text, INTENT: dict(rows[0]), INTENT_RANKING_KEY: rows})


def _resolve(text: str, ranking: Dict[str, float]) -> Message:
    return UrgencyResolver(min_confidence=0.3).process([_message(text, ranking)])[0]


def test_clauses_split_on_punctuation_and_spaces_between_sentences() -> None:
    assert clauses("你好,我的外卖到哪了?都超时一个小时了") == ["你好", "我的外卖到哪了", "都超时一个小时了"]
    assert clauses("在吗 快递显示签收了 我没拿到") == ["在吗", "快递显示签收了", "我没拿到"]
    assert clauses("外卖到哪了") == ["外卖到哪了"]


def test_a_greeting_in_front_does_not_hide_the_problem() -> None:
    message = _resolve("你好,外卖洒了一半", {"greet": 0.55, "report_damage": 0.4, "thank": 0.05})
    assert message.get(INTENT)["name"] == "report_damage"
    assert message.get("problems") == ["report_damage"]


def test_a_delay_outranks_a_status_question() -> None:
    message = _resolve("到哪了?都过了一个小时了", {"query_order_status": 0.6, "report_delay": 0.35})
    assert message.get(INTENT)["name"] == "report_delay"
    assert message.get("problems") == ["report_delay", "query_order_status"]


def test_weak_or_single_clause_signals_leave_the_classifier_alone() -> None:
    assert _resolve("你好,在吗", {"greet": 0.8, "report_delay": 0.15}).get(INTENT)["name"] == "greet"
    assert _resolve("外卖到了吗", {"query_order_status": 0.6, "report_delay": 0.38}).get(INTENT)["name"] == "query_order_status"
    assert _resolve("/affirm", {"affirm": 0.5, "report_damage": 0.45}).get(INTENT)["name"] == "affirm"


def test_a_more_urgent_top_intent_is_kept() -> None:
    message = _resolve("包裹破了,顺便问下发票", {"report_damage": 0.5, "request_invoice": 0.45})
    assert message.get(INTENT)["name"] == "report_damage"
    assert message.get("problems") == ["report_damage", "request_invoice"]


def test_between_two_problems_the_classifier_reading_stands() -> None:
    message = _resolve("超时一个小时了 退款!!", {"request_refund": 0.55, "report_delay": 0.42})
    assert message.get(INTENT)["name"] == "request_refund"
    assert message.get("problems") == ["report_delay", "request_refund"]


@pytest.mark.parametrize("text,intent", [
    ("您好,在吗?我昨天买的杯子到了,拆开是碎的", "report_damage"),
    ("谢谢你们上次帮忙。这次的外卖又超时一个多小时了", "report_delay"),
    ("你好 付款的时候扣了两次钱 帮我看看", "payment_issue"),
    ("在吗,我的快递到哪了,另外骑手一直在我家门口不走,我很怕", "report_safety"),
    ("您好,謝謝,外送的湯全灑了", "report_damage"),
])
def test_the_model_lets_the_most_urgent_sentence_decide(text: str, intent: str) -> None:
    assert parse(text)["intent"]["name"] == intent


def test_an_explicit_request_is_not_overruled() -> None:
    message = _resolve("等了半小时 气死了 给我取消", {"cancel_order": 0.55, "report_delay": 0.4})
    assert message.get(INTENT)["name"] == "cancel_order"
