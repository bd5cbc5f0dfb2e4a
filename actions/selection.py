"""Which of the offered orders the customer means, from what they typed.

After a phone number lists several orders the customer may click a button
or type: a position (头一个, 第2个, 最下面那个, the second one), a type
(点外卖的, 网约车那个), a merchant, dish, item, route or city (牛肉面那单,
去机场的), a time (昨天的, 最近那次), an amount (38块的) or the last digits
of the order number. Pure functions, no I/O: the orders come in the order
they were offered (newest first).

``pick`` answers with the orders that still match: one is a choice, several
narrow the list (ask again with just those), none means "not understood".
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Dict, Iterable, List, Optional, Sequence

from orders.service import Order

_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_ORDINAL_EN = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
               "fifth": 5, "5th": 5}
_POSITION = re.compile(r"(?:第|头|頭)?\s*([1-9]|[一二两三四五六七八九十])\s*(?:个|個|单|單|条|條|笔|筆|项|項|号|號)")
_FIRST = re.compile(r"头一|頭一|最上|上面那|第一|first|top")
_LAST = re.compile(r"最后|最下|下面那|最底|倒数第一|last|bottom")
_FROM_LAST = re.compile(r"倒数第\s*([1-9]|[一二两三四五六七八九十])")
_HAN_PAIR = re.compile(r"[\u4e00-\u9fff]{2}")
_TYPE_WORDS: Dict[str, Sequence[str]] = {
    "food": ("外卖", "点餐", "订餐", "吃的", "餐", "饭", "骑手", "food", "takeaway", "take-away", "meal", "delivery"),
    "ride": ("打车", "网约车", "专车", "快车", "出租", "车", "司机", "行程", "ride", "taxi", "car", "trip", "driver"),
    "parcel": ("快递", "包裹", "件", "ems", "邮", "parcel", "package", "express", "shipment"),
}
_NEWEST = re.compile(r"最近|最新|刚才|刚刚|刚下|刚点|刚买|刚叫|刚寄|刚那|这次|这单|latest|recent|newest|last one i|just now")
_OLDEST = re.compile(r"最早|最久|oldest|earliest")
_DAY_WORDS = {"今天": 0, "今日": 0, "今儿": 0, "today": 0, "昨天": 1, "昨日": 1, "昨儿": 1, "昨晚": 1,
              "yesterday": 1, "前天": 2, "前儿": 2}
_AMOUNT = re.compile(r"(\d+(?:\.\d+)?)\s*(?:块|元|塊|rmb|yuan|¥)|[¥￥]\s*(\d+(?:\.\d+)?)"
                     r"|^\s*(\d{2,4}(?:\.\d+)?)\s*(?:那|的|这)")
_TAIL = re.compile(r"(?:尾号|尾號|末尾|后四位|後四位|ending(?: in)?)\s*([0-9A-Za-z]{3,6})|^\s*([0-9]{4})\s*(?:的|那个|那單|那单)?\s*$")


def _position(text: str, count: int) -> Optional[int]:
    """0-based index named by a position word, or None."""
    lowered = text.lower()
    from_last = _FROM_LAST.search(text)
    if from_last:
        raw = from_last.group(1)
        number = int(raw) if raw.isdigit() else _CN_DIGITS[raw]
        return count - number if 1 <= number <= count else None
    if _LAST.search(lowered):
        return count - 1
    for word, number in _ORDINAL_EN.items():
        if re.search(rf"\b{word}\b", lowered):
            return number - 1 if number <= count else None
    found = _POSITION.search(text)
    if found:
        raw = found.group(1)
        number = int(raw) if raw.isdigit() else _CN_DIGITS[raw]
        return number - 1 if 1 <= number <= count else None
    if _FIRST.search(lowered):
        return 0
    if re.fullmatch(r"\s*[1-9]\s*", text):
        number = int(text)
        return number - 1 if number <= count else None
    return None


def _words_of(order: Order) -> List[str]:
    """The names a customer may use for ``order``: merchant, dishes, places, people."""
    d = order.details or {}
    words: List[str] = []
    for key in ("merchant", "rider", "driver", "plate", "car", "pickup", "dropoff", "sender_city",
                "receiver_city", "item", "courier"):
        value = d.get(key)
        if isinstance(value, str) and value:
            words.append(value)
    for item in d.get("items") or []:
        if isinstance(item, dict) and item.get("name"):
            words.append(str(item["name"]))
    return words


def _mentions(text: str, word: str) -> bool:
    """Whether ``text`` names ``word``: the whole word, or any 2 of its characters in a row."""
    word = re.sub(r"[((].*?[))]|[\s·]", "", word).lower()
    if not word:
        return False
    if word in text:
        return True
    if len(word) < 2 or word.isascii():
        return False
    # 牛肉面 for 老街牛肉面, 机场 for 首都机场T3, 茶具 for 陶瓷茶具一套; only pairs of
    # Chinese characters (the "12" of a plate 京A12345 is in every phone number)
    grams = {word[i:i + 2] for i in range(len(word) - 1) if _HAN_PAIR.fullmatch(word[i:i + 2])}
    generic = {"师傅", "外送", "一套", "套餐", "小馆"}
    return any(g in text for g in grams - generic)


def _by_type(text: str, orders: Sequence[Order]) -> List[Order]:
    lowered = text.lower()
    wanted = {t for t, words in _TYPE_WORDS.items() if any(w in lowered for w in words)}
    if len(wanted) != 1:
        return []
    return [o for o in orders if o.order_type in wanted]


def _by_day(text: str, orders: Sequence[Order], now: datetime) -> List[Order]:
    for word, days_ago in _DAY_WORDS.items():
        if word in text.lower():
            day = (now - timedelta(days=days_ago)).date()
            return [o for o in orders if o.created_at.date() == day]
    return []


def _by_amount(text: str, orders: Sequence[Order]) -> List[Order]:
    found = _AMOUNT.search(text.lower())
    if not found:
        return []
    value = float(found.group(1) or found.group(2) or found.group(3))
    return [o for o in orders if abs(o.amount - value) < 0.01 or int(o.amount) == int(value)]


def _by_tail(text: str, orders: Sequence[Order]) -> List[Order]:
    found = _TAIL.search(text)
    if not found:
        return []
    tail = (found.group(1) or found.group(2) or "").upper()
    return [o for o in orders if o.order_id.upper().endswith(tail)]


def _narrow(current: List[Order], matches: Iterable[Order]) -> List[Order]:
    chosen = {o.order_id for o in matches}
    narrowed = [o for o in current if o.order_id in chosen]
    return narrowed or current


def pick(text: str, orders: Sequence[Order], now: Optional[datetime] = None) -> List[Order]:
    """The offered orders ``text`` can mean; [] when it names none of them.

    ``text`` should be Simplified (the caller converts); each clue that
    matches narrows the list, a clue that matches nothing is ignored.
    """
    text = (text or "").strip()
    if not text or not orders:
        return []
    now = now or datetime.now()
    lowered = text.lower()
    index = _position(text, len(orders))
    by_type = _by_type(lowered, orders)
    if index is not None:
        # "外卖里的第二个" counts within the type; "第二个" within all
        pool = by_type or list(orders)
        return [pool[index]] if index < len(pool) else []
    current = list(orders)
    clue = False
    for matches in (
        by_type,
        _by_tail(text, current),
        [o for o in current if any(_mentions(lowered, w) for w in _words_of(o))],
        _by_amount(text, current),
        _by_day(text, current, now),
    ):
        if matches:
            clue = True
            current = _narrow(current, matches)
    if _NEWEST.search(lowered):
        return [max(current, key=lambda o: o.created_at)]
    if _OLDEST.search(lowered):
        return [min(current, key=lambda o: o.created_at)]
    return current if clue else []
