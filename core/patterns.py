"""Patterned entities and personal data, read from data/patterns.yml.

Matching runs on the character level (jieba may split ``138-1234-5678`` into
five tokens) and every candidate passes its validator: a parcel number needs
a correct UPU S10 check digit, a bank card the Luhn sum, an ID card its
GB 11643 checksum. Overlaps resolve to the longest match, then to the pattern
declared first, so a 19-digit food order is never taken for a bank card.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional

import yaml

from core.paths import PATTERNS_FILE

#: Chinese numerals of a 1-5 rating (五星, 四分) → the digit
CN_DIGITS = {"一": "1", "二": "2", "两": "2", "三": "3", "四": "4", "五": "5"}


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def valid_s10(text: str) -> bool:
    code = re.sub(r"[\s-]", "", text).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{9}[A-Z]{2}", code):
        return False
    weights = (8, 6, 4, 2, 3, 5, 9, 7)
    total = sum(int(d) * w for d, w in zip(code[2:10], weights))
    check = 11 - total % 11
    check = {10: 0, 11: 5}.get(check, check)
    return check == int(code[10])


def valid_food_order(text: str) -> bool:
    digits = _digits(text)
    if len(digits) != 19:
        return False
    month, day = int(digits[4:6]), int(digits[6:8])
    return 1 <= month <= 12 and 1 <= day <= 31


def valid_id_card(text: str) -> bool:
    code = text.upper()
    if not re.fullmatch(r"\d{17}[\dX]", code):
        return False
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(code[:17], weights))
    return "10X98765432"[total % 11] == code[17]


def valid_luhn(text: str) -> bool:
    digits = _digits(text)
    if not 16 <= len(digits) <= 19:
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


VALIDATORS: Dict[str, Callable[[str], bool]] = {
    "s10": valid_s10,
    "food_order": valid_food_order,
    "id_card": valid_id_card,
    "luhn": valid_luhn,
}


@dataclass(frozen=True)
class Match:
    label: str
    name: str
    start: int
    end: int
    value: str
    pii: bool

    def as_dict(self) -> Dict[str, Any]:
        return {"label": self.label, "start": self.start, "end": self.end, "value": self.value}


@dataclass(frozen=True)
class RegexPattern:
    label: str
    name: str
    regex: "re.Pattern[str]"
    validator: Optional[Callable[[str], bool]]
    pii: bool
    entity: bool


def load_spec(path: Path = PATTERNS_FILE) -> Dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def compile_regexes(spec: Iterable[Dict[str, Any]]) -> List[RegexPattern]:
    compiled = []
    for item in spec:
        validator_name = item.get("validator")
        if validator_name and validator_name not in VALIDATORS:
            raise ValueError(f"unknown validator {validator_name!r} in patterns")
        compiled.append(
            RegexPattern(
                label=item["label"],
                name=item["name"],
                regex=re.compile(item["pattern"]),
                validator=VALIDATORS.get(validator_name) if validator_name else None,
                pii=bool(item.get("pii", False)),
                entity=bool(item.get("entity", True)),
            )
        )
    return compiled


@lru_cache(maxsize=4)
def default_regexes() -> List[RegexPattern]:
    return compile_regexes(load_spec()["regexes"])


def find_matches(
    text: str,
    regexes: Optional[List[RegexPattern]] = None,
    *,
    entities_only: bool = False,
    pii_only: bool = False,
) -> List[Match]:
    """Validated, non-overlapping matches in ``text``, in text order."""
    candidates: List[tuple] = []
    for rank, pattern in enumerate(regexes if regexes is not None else default_regexes()):
        if entities_only and not pattern.entity:
            continue
        if pii_only and not pattern.pii:
            continue
        for found in pattern.regex.finditer(text):
            value = found.group(0).strip()
            if pattern.validator and not pattern.validator(value):
                continue
            start = found.start() + (len(found.group(0)) - len(found.group(0).lstrip()))
            candidates.append((start, start + len(value), rank, pattern, value))
    candidates.sort(key=lambda c: (-(c[1] - c[0]), c[2], c[0]))
    taken: List[Match] = []
    for start, end, _rank, pattern, value in candidates:
        if any(start < m.end and m.start < end for m in taken):
            continue
        taken.append(Match(pattern.label, pattern.name, start, end, value, pattern.pii))
    return sorted(taken, key=lambda m: m.start)
