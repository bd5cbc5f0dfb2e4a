"""A 1-5 satisfaction rating from what the customer typed or clicked.

"5", "5分", "五星", "打5分", "⭐⭐⭐⭐⭐", "非常满意", "不满意", "一般" …; None when
the text holds no rating. Pure function: the caller decides whether a
rating was asked for (one is only taken after the rating question).
"""
from __future__ import annotations

import re
from typing import Iterable, Optional

from core.text import to_simplified

_CN = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_SCORE = re.compile(r"(?<![0-9])([1-5])\s*(?:分|星|颗星|stars?|points?)?(?![0-9.])", re.I)
_CN_SCORE = re.compile(r"([一二两三四五])\s*(?:分|星|颗星)")
_WORDS = (
    (re.compile(r"非常不满意|很不满意|极差|太差|差评|垃圾|很差"), 1),
    (re.compile(r"不满意|不太满意|不好|差"), 2),
    (re.compile(r"一般|还行|凑合|马马虎虎"), 3),
    (re.compile(r"非常满意|很满意|超满意|特别满意|满分|好评|完美|棒极了|太棒"), 5),
    (re.compile(r"满意|挺好|不错|很好|good|great|excellent", re.I), 4),
)


def rating_of(text: str, entity_values: Iterable[str] = ()) -> Optional[int]:
    """The rating in ``text`` (entities first), or None."""
    for value in entity_values:
        try:
            rating = int(str(value).strip())
        except ValueError:
            continue
        if 1 <= rating <= 5:
            return rating
    plain = to_simplified(text or "").strip()
    if not plain:
        return None
    stars = plain.count("⭐") + plain.count("★")
    if 1 <= stars <= 5:
        return stars
    found = _SCORE.search(plain)
    if found and (len(plain) <= 12 or re.search(r"[1-5]\s*(?:分|星)", plain)):
        return int(found.group(1))
    found = _CN_SCORE.search(plain)
    if found:
        return _CN[found.group(1)]
    for pattern, rating in _WORDS:
        if pattern.search(plain):
            return rating
    return None
