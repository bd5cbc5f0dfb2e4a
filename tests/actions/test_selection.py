"""Typed order selection (actions/selection.py) and ratings (actions/rating.py)."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import List

import pytest

from actions.rating import rating_of
from actions.selection import pick
from orders.service import Order

NOW = datetime(2026, 12, 2, 12, 0)


def order(order_id: str, order_type: str, hours_ago: float, amount: float, **details: object) -> Order:
    return Order(order_id, order_type, "13900001111", "completed", NOW - timedelta(hours=hours_ago), amount, dict(details))


OFFERED: List[Order] = [
    order("R20231121009876", "ride", 20, 86.0, pickup="深圳北站", dropoff="南山科技园", driver="周师傅"),
    order("2023112112000067890", "food", 26, 52.0, merchant="川味小馆", items=[{"name": "酸菜鱼"}, {"name": "米饭"}]),
    order("2023112018300099999", "food", 48, 268.0, merchant="海底捞外送", items=[{"name": "火锅套餐(6人)"}]),
    order("EB000000014CN", "parcel", 72, 25.0, sender_city="上海", receiver_city="深圳", item="陶瓷茶具一套"),
]


def ids(text: str) -> List[str]:
    return [o.order_id for o in pick(text, OFFERED, NOW)]


@pytest.mark.parametrize("text,expected", [
    ("头一个", "R20231121009876"), ("第2个", "2023112112000067890"), ("第二单", "2023112112000067890"),
    ("第三个吧", "2023112018300099999"), ("最下面那个", "EB000000014CN"), ("最后一个", "EB000000014CN"),
    ("the second one", "2023112112000067890"), ("first", "R20231121009876"), ("1", "R20231121009876"),
    ("网约车那个", "R20231121009876"), ("快递那单", "EB000000014CN"), ("the taxi one", "R20231121009876"),
    ("川味小馆的", "2023112112000067890"), ("酸菜鱼那个", "2023112112000067890"), ("海底捞", "2023112018300099999"),
    ("去科技园的那次", "R20231121009876"), ("寄茶具的", "EB000000014CN"), ("268那单", "2023112018300099999"),
    ("52块的", "2023112112000067890"), ("尾号9876", "R20231121009876"), ("最近那次", "R20231121009876"),
    ("最早的那个", "EB000000014CN"), ("外卖里的第二个", "2023112018300099999"),
])
def test_one_order_named(text: str, expected: str) -> None:
    assert ids(text) == [expected]


def test_a_type_with_two_orders_narrows_the_list() -> None:
    assert ids("点外卖的那个") == ["2023112112000067890", "2023112018300099999"]


@pytest.mark.parametrize("text", ["嗯嗯那个", "", "你好", "第九个"])
def test_nothing_named(text: str) -> None:
    assert ids(text) == []


@pytest.mark.parametrize("text,expected", [
    ("5", 5), ("5分", 5), ("打4分吧", 4), ("五星", 5), ("⭐⭐⭐", 3), ("非常满意", 5), ("满意", 4), ("一般般", 3),
    ("不满意", 2), ("差评", 1), ("给你们一分", 1), ("满分", 5),
    # the rating words of data/patterns.yml (the NLU entity's), read by rating_of too
    ("超级满意", 5), ("还可以", 3), ("不怎么样", 2),
])
def test_ratings(text: str, expected: int) -> None:
    assert rating_of(text) == expected


@pytest.mark.parametrize("text", ["10", "谢谢", "好的", "订单2023112112000067890", ""])
def test_not_ratings(text: str) -> None:
    assert rating_of(text) is None
