"""A 1-5 satisfaction rating from what the customer typed or clicked.

"5", "5分", "五星", "打5分", "⭐⭐⭐⭐⭐", "非常满意", "不满意", "一般" …; None when
the text holds no rating. Pure function: the caller decides whether a
rating was asked for (one is only taken after the rating question).

The satisfaction words come from data/patterns.yml (``phrases: rating``, the
words the NLU also finds as a ``rating`` entity), plus the looser words below
that are only safe as the answer to the rating question ("差" is in 差不多,
"good" in any English sentence): they must not become entities everywhere.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Dict, Iterable, List, Optional, Tuple

from core.patterns import CN_DIGITS, load_spec
from core.text import to_simplified

_SCORE = re.compile(r"(?<![0-9])([1-5])\s*(?:分|星|颗星|stars?|points?)?(?![0-9.])", re.I)
_CN_SCORE = re.compile(r"([一二两三四五])\s*(?:分|星|颗星)")
#: only after the rating question (see above); the entity words are in data/patterns.yml
_ANSWER_ONLY_WORDS: Dict[int, Tuple[str, ...]] = {
    1: ("极差", "太差", "垃圾"),
    2: ("不好", "差"),
    3: ("马马虎虎",),
    5: ("超满意", "满分", "好评", "完美", "棒极了", "太棒"),
    4: ("挺好", "不错", "很好", "good", "great", "excellent"),
}
#: a stronger complaint first; 4 last, as 满意 stands inside 不满意 and 非常满意
_ORDER = (1, 2, 3, 5, 4)


@lru_cache(maxsize=1)
def _words() -> List[Tuple[re.Pattern, int]]:
    """(pattern of every word for a rating, rating) in :data:`_ORDER`."""
    phrases = (load_spec().get("phrases") or {}).get("rating") or {}
    found = []
    for rating in _ORDER:
        words = [str(w).lower() for w in phrases.get(str(rating)) or []] + list(_ANSWER_ONLY_WORDS[rating])
        words.sort(key=len, reverse=True)
        found.append((re.compile("|".join(re.escape(w) for w in words)), rating))
    return found


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
        return int(CN_DIGITS[found.group(1)])
    lowered = plain.lower()
    for pattern, rating in _words():
        if pattern.search(lowered):
            return rating
    return None
