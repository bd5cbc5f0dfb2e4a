"""Patterned entities and personal data from data/patterns.yml."""
from __future__ import annotations

import pytest

from core.patterns import find_matches, valid_id_card, valid_luhn, valid_s10
from core.pii import mask_text
from bot.nlu.zh_pipeline import load


def labels(text: str) -> list:
    return [(m.label, m.value) for m in find_matches(text, entities_only=True)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("外卖单号2023112215300012345还没到", [("order_id", "2023112215300012345")]),
        ("快递EA123456785CN到哪了", [("order_id", "EA123456785CN")]),
        ("行程r20231122001234多收钱了", [("order_id", "r20231122001234")]),
        ("手机138-1234-5678", [("phone_number", "138-1234-5678")]),
        ("打+86 13912345678", [("phone_number", "+86 13912345678")]),
        ("车牌粤B·D12345", [("plate_number", "粤B·D12345")]),
        ("发到 li.si@example.com", [("email", "li.si@example.com")]),
    ],
)
def test_patterned_entities_are_found(text: str, expected: list) -> None:
    assert labels(text) == expected


def test_s10_check_digit_is_enforced() -> None:
    assert valid_s10("EA123456785CN")
    assert not valid_s10("EA123456784CN")
    assert labels("快递EA123456784CN") == []


def test_short_or_long_numbers_are_not_orders() -> None:
    assert labels("订单12345") == []
    assert labels("号码1381234567") == []  # ten digits


def test_checksums() -> None:
    assert valid_id_card("11010519491231002X")
    assert not valid_id_card("110105194912310021")
    assert valid_luhn("4111 1111 1111 1111")
    assert not valid_luhn("4111 1111 1111 1112")


def test_food_order_is_not_masked_as_bank_card() -> None:
    text = "订单2023112215300012345"
    assert mask_text(text) == text


def test_pii_is_masked() -> None:
    masked = mask_text("我电话13812345678,身份证11010519491231002X,卡号4111 1111 1111 1111")
    assert "138****5678" in masked
    assert "13812345678" not in masked
    assert "11010519491231002X" not in masked and masked.count("002X") == 1
    assert "4111 1111 1111 1111" not in masked and "1111" in masked


def test_spacy_pipeline_aligns_entities_to_jieba_tokens() -> None:
    doc = load()("司机京A12345开太快,我电话138 1234 5678")
    found = {(e.label_, e.text) for e in doc.ents}
    assert ("plate_number", "京A12345") in found
    assert ("phone_number", "138 1234 5678") in found
    assert ("order_type", "司机") in found
