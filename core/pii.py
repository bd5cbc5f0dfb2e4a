"""Find and mask personal data: what an agent, a log or a printed transcript sees.

Detection runs the validated regexes of data/patterns.yml (``core.patterns``,
the rules the spaCy pipeline's entity component runs, so there is one source
of truth; no jieba is needed to match characters) plus the masking-only
patterns below, for what customers type that the entity rules are not meant
to read: a phone with 0086 or any grouping, an ID number with spaces or
dashes, an address without a road or in Traditional characters. Everything is
matched on a copy of the text folded to half-width *at the same length*
(full-width digits, ideographic spaces, dash variants, zero-width characters),
so the offsets found on the copy mask the customer's own text.

Overlaps: an order number, plate or rating beats personal data no longer
than itself (a 19-digit food order is not a bank card, as in find_matches);
matches of one kind merge; otherwise the longest wins.

Formats: phone 138****5678 (``mask_phone``, the service
guide's echo format), e-mail z***@domain (``mask_email``), ID and card
numbers keep their last four, an address keeps its province / city /
district and hides the street, number, building and room.

Measured by tests/security/test_masking.py on tests/security/pii_corpus.yml.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Dict, List, Optional, Pattern, Tuple

from core.patterns import find_matches, valid_id_card

PII_LABELS = {"phone_number", "email", "id_card", "bank_card", "address"}


def _fold_table() -> Dict[int, str]:
    """One character for one character, so offsets stay valid."""
    table = {code: chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)}  # full-width ASCII
    table[0x3000] = " "  # ideographic space
    for dash in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63":
        table[ord(dash)] = "-"
    for invisible in [0x00AD, *range(0x200B, 0x2010), *range(0x2060, 0x2065), 0xFEFF]:
        table[invisible] = " "  # zero-width characters hidden inside a number
    return table


_FOLD = _fold_table()


def fold(text: str) -> str:
    """``text`` with full-width forms, dashes and invisible characters made plain, same length."""
    return text.translate(_FOLD)


# ---- masking-only patterns (matched on folded text) ---------------------------------------

_SEP = r"[ -]{0,2}"
_PHONE = re.compile(
    r"(?<![0-9])(?:(?:\+|00)?86[ -]?|\(\s?(?:\+|00)?86\s?\)[ -]?)?1[3-9][0-9](?:" + _SEP + r"[0-9]){8}(?![0-9])"
)
#: 18 characters in any grouping; not the front of a longer spaced number
_ID_CARD = re.compile(r"(?<![0-9])(?<![0-9][ -])[0-9](?:" + _SEP + r"[0-9]){16}" + _SEP + r"[0-9Xx](?![0-9])(?![ -][0-9])")

# Words around an address that are not part of a street's name.
_STOP = "的了在是我你您他她它们到往送寄住址于从给把被和与及或就都也还要请帮麻烦改为去来这那个收说让叫打拨放发家"
_NAME = rf"(?:(?![{_STOP}])[\u4e00-\u9fff])"
_PROVINCE = rf"(?:{_NAME}{{2,7}}?(?:省|自治区|特别行政区) ?)"
_CITY = rf"(?:{_NAME}{{1,7}}?(?<!超)(?:市|自治州|州|盟|地区) ?)"
#: district names are short; 小区, 园区, 校区, 社区 ... are places inside one
_DISTRICT = rf"(?:{_NAME}{{1,5}}?(?<![小园校社厂景片矿院])(?:区|县|旗|區|縣) ?)"
#: at least one level, each at most once, in order (so 望京西园三区 is not a second district)
_ADMIN = rf"(?:{_PROVINCE}{_CITY}?{_DISTRICT}?|{_CITY}{_DISTRICT}?|{_DISTRICT})"
_ROAD_OR_ESTATE = (
    r"(?:路|街|大道|大街|巷|弄|胡同|小区|小區|花园|花園|公寓|大厦|大廈|新村|家园|家園|苑|广场|廣場|大学|大學|园区|園區|村)"
)
_HEAD = rf"(?:{_NAME}|[A-Za-z]){{1,12}}?{_ROAD_OR_ESTATE}"
_NUM = r"(?:[0-9]{1,5}|[一二三四五六七八九十两]{1,3}|[A-Za-z]{1,2}[0-9]{0,4})"
_UNIT = r"(?:号楼|號樓|号院|號院|单元|單元|栋|棟|幢|座|层|層|室|号|號|户|戶|楼|樓|段|组|組|弄|巷|期|区|區)"
_BODY = rf"(?: ?(?:{_NAME}|[A-Za-z]){{0,12}}? ?{_NUM} ?{_UNIT})+(?: ?[0-9]{{2,5}}(?![0-9]))?"
#: province / city / district, then the street part (road optional: 望京西园三区312号楼)
_ADDRESS_AFTER_ADMIN = re.compile(rf"{_ADMIN}(?P<detail>(?:{_HEAD})?{_BODY})")
#: no district given: a road or estate name, then numbers
_ADDRESS_BY_STREET = re.compile(rf"(?P<detail>{_HEAD}{_BODY})")

_EXTRA: Tuple[Tuple[str, Pattern[str]], ...] = (
    ("phone_number", _PHONE),
    ("id_card", _ID_CARD),
    ("address", _ADDRESS_AFTER_ADMIN),
    ("address", _ADDRESS_BY_STREET),
)


@dataclass(frozen=True)
class _Span:
    label: str
    start: int
    end: int

    @property
    def size(self) -> int:
        return self.end - self.start

    def overlaps(self, other: "_Span") -> bool:
        return self.start < other.end and other.start < self.end


def _valid(label: str, value: str) -> bool:
    if label == "id_card":
        return valid_id_card(re.sub(r"[ -]", "", value).upper())
    return True


def _candidates(folded: str) -> List[_Span]:
    """Personal data candidates in ``folded``, minus those an order number (plate...) covers."""
    configured = find_matches(folded)
    protected = [_Span(m.label, m.start, m.end) for m in configured if not m.pii]
    found = [_Span(m.label, m.start, m.end) for m in configured if m.pii and m.label in PII_LABELS]
    for label, regex in _EXTRA:
        for match in regex.finditer(folded):
            span = _Span(label, match.start(), match.end())
            if not _valid(label, match.group(0)):
                continue
            if any(span.overlaps(p) and p.size >= span.size for p in protected):
                continue
            found.append(span)
    return found


def _resolve(spans: List[_Span]) -> List[_Span]:
    """Merge overlapping spans of one kind, then keep the longest of overlapping kinds."""
    merged: List[_Span] = []
    for span in sorted(spans, key=lambda s: (s.label, s.start)):
        if merged and merged[-1].label == span.label and merged[-1].end > span.start:
            last = merged.pop()
            span = _Span(span.label, last.start, max(last.end, span.end))
        merged.append(span)
    taken: List[_Span] = []
    for span in sorted(merged, key=lambda s: (-s.size, s.start)):
        if not any(span.overlaps(t) for t in taken):
            taken.append(span)
    return sorted(taken, key=lambda s: s.start)


def _spans(text: str) -> List[_Span]:
    return _resolve(_candidates(fold(text))) if text else []


def find_pii(text: str) -> List[Dict[str, object]]:
    """Personal values in ``text``: label, start, end, value (the customer's own characters)."""
    return [{"label": s.label, "start": s.start, "end": s.end, "value": text[s.start:s.end]} for s in _spans(text)]


def _address_detail(value: str) -> Optional[int]:
    """Where the personal part of an address starts (after its province / city / district)."""
    folded = fold(value)
    for regex in (_ADDRESS_AFTER_ADMIN, _ADDRESS_BY_STREET):
        match = regex.search(folded)
        if match:
            return match.start("detail")
    return None


def mask_phone(phone: Optional[str]) -> str:
    """13812345678 -> 138****5678."""
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) < 7:
        return "****"
    return f"{digits[:3]}****{digits[-4:]}"


def mask_order(order_id: Optional[str]) -> str:
    """2023112215300012345 -> …2345 (last four characters)."""
    code = unicodedata.normalize("NFKC", order_id or "").strip()
    return f"…{code[-4:]}" if code else "…"


def mask_email(email: Optional[str]) -> str:
    """zhang.san@example.com -> z***@example.com."""
    if not email or "@" not in email:
        return "***"
    local, domain = email.split("@", 1)
    return f"{local[:1]}***@{domain}"


def mask_value(label: str, value: str) -> str:
    plain = fold(value)
    if label == "phone_number":
        return mask_phone(re.sub(r"\D", "", plain)[-11:])
    if label == "email":
        return mask_email(plain)
    if label in ("id_card", "bank_card"):
        compact = re.sub(r"[\s-]", "", plain)
        return "*" * (len(compact) - 4) + compact[-4:]
    if label == "address":
        start = _address_detail(value)
        keep = value[:start] if start is not None else value[:3]
        return keep + "*" * max(len(value) - len(keep), 3)
    return "*" * len(value)


def mask_text(text: str) -> str:
    """``text`` with every personal value replaced by its masked form."""
    if not text:
        return text
    out: List[str] = []
    cursor = 0
    for span in _spans(text):
        out.append(text[cursor:span.start])
        out.append(mask_value(span.label, text[span.start:span.end]))
        cursor = span.end
    out.append(text[cursor:])
    return "".join(out)
