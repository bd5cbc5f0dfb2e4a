import pytest

from core.pii import mask_email, mask_order, mask_phone
from orders.validation import (
    is_valid_s10, normalise_email, normalise_order_id, normalise_phone, order_type_of, parse_identity, s10_check_digit,
)


@pytest.mark.parametrize("raw", ["13812345678", "138-1234-5678", "+86 13812345678", "138 1234 5678", "１３８１２３４５６７８"])
def test_phone_normalised(raw):
    assert normalise_phone(raw) == "13812345678"


@pytest.mark.parametrize("raw", ["12345678901", "1381234567", "138123456789", "abc"])
def test_bad_phones(raw):
    assert normalise_phone(raw) is None


def test_s10_check_digit():
    assert s10_check_digit("12345678") == 5
    assert is_valid_s10("EA123456785CN") and is_valid_s10("ea123456785cn")
    assert not is_valid_s10("EA123456784CN")


def test_order_ids():
    assert normalise_order_id("订单 2023112215300012345") == "2023112215300012345"
    assert normalise_order_id("r20231122001234") == "R20231122001234"
    assert order_type_of("EA123456785CN") == "parcel"
    assert order_type_of("R20231122001234") == "ride"
    assert order_type_of("2023112215300012345") == "food"
    assert normalise_order_id("2023139915300012345") is None  # month 13


@pytest.mark.parametrize("text,kind,problem,digits", [
    ("12345", "invalid", "too_short", 5),
    ("138abc45678", "invalid", "phone_letters", 0),
    ("EA123456784CN", "invalid", "parcel_check_digit", 0),
    ("R2023112200123", "invalid", "ride_length", 13),
    ("我的订单号是", "invalid", "missing", 0),
    ("12345678901", "invalid", "phone_prefix", 11),
    ("1234567890123456", "invalid", "wrong_length", 16),
    ("手机 138-1234-5678", "phone", None, 0),
    ('/inform{"order_id":"EA123456785CN"}', "order", None, 0),
])
def test_parse_identity(text, kind, problem, digits):
    parsed = parse_identity(text)
    assert (parsed.kind, parsed.problem, parsed.digits) == (kind, problem, digits)


def test_masks():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_order("2023112215300012345") == "…2345"
    assert mask_email("zhang.san@example.com") == "z***@example.com"


def test_email():
    assert normalise_email("邮箱是 Li.Ming@Example.COM。") == "li.ming@example.com"
    assert normalise_email("li.ming@example") is None
    assert normalise_email("li..ming@example.com") is None
