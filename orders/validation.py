"""Normalise and validate what customers type: phones, order ids, e-mail (masking: core/pii.py).

Pure functions, no I/O. Entities arrive as the customer's raw text
("138-1234-5678", "ea123456785cn"), so every check normalises first.

Order numbers:
- food:   19 digits starting with a date, 20YYMMDD + 11 digits
- ride:   R + 14 digits
- parcel: UPU S10, 2 letters + 8-digit serial + check digit + 2-letter country
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Optional

S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)

_RIDE = re.compile(r"(?<![0-9A-Za-z])[Rr]\d{14}(?![0-9])")
_RIDE_LOOSE = re.compile(r"(?<![0-9A-Za-z])[Rr]\d{5,}(?![0-9])")
_S10 = re.compile(r"(?<![0-9A-Za-z])[A-Za-z]{2}\d{9}[A-Za-z]{2}(?![0-9A-Za-z])")
_PHONE = re.compile(r"(?<![0-9])(?:\+?86[ -]?)?(1[3-9]\d(?:[ -]?\d{4}){2})(?![0-9])")
_PHONE_WITH_LETTERS = re.compile(r"(?<![0-9A-Za-z])1[3-9][0-9A-Za-z\- ]{9,11}(?![0-9A-Za-z])")
_DIGIT_RUN = re.compile(r"\d+")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}$")


def fold(text: Optional[str]) -> str:
    """Full-width to half-width, trimmed; None becomes ''."""
    return unicodedata.normalize("NFKC", text or "").strip()


def s10_check_digit(serial: str) -> int:
    """Check digit of an 8-digit UPU S10 serial number."""
    if not re.fullmatch(r"\d{8}", serial):
        raise ValueError("an S10 serial has 8 digits")
    total = sum(int(d) * w for d, w in zip(serial, S10_WEIGHTS))
    check = 11 - total % 11
    return {10: 0, 11: 5}.get(check, check)


def is_valid_s10(code: str) -> bool:
    code = fold(code).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{9}[A-Z]{2}", code):
        return False
    return s10_check_digit(code[2:10]) == int(code[10])


def is_valid_food_order(code: str) -> bool:
    if not re.fullmatch(r"20\d{17}", code):
        return False
    month, day = int(code[4:6]), int(code[6:8])
    return 1 <= month <= 12 and 1 <= day <= 31


def order_type_of(order_id: Optional[str]) -> Optional[str]:
    """'ride' | 'food' | 'parcel' for a valid, normalised order id, else None."""
    code = normalise_order_id(order_id)
    if code is None:
        return None
    if code.startswith("R"):
        return "ride"
    if code.isdigit():
        return "food"
    return "parcel"


def normalise_order_id(text: Optional[str]) -> Optional[str]:
    """The canonical order id found in ``text`` (upper case, no spaces), or None."""
    value = re.sub(r"[\s\-]", "", fold(text))
    match = _RIDE.search(value)
    if match:
        return match.group(0).upper()
    match = _S10.search(value)
    if match and is_valid_s10(match.group(0)):
        return match.group(0).upper()
    for run in _DIGIT_RUN.findall(value):
        if len(run) == 19 and is_valid_food_order(run):
            return run
    return None


def normalise_phone(text: Optional[str]) -> Optional[str]:
    """11-digit mainland mobile number from '138-1234-5678', '+86 138…', or None."""
    value = fold(text)
    match = _PHONE.search(value)
    if not match:
        return None
    digits = re.sub(r"\D", "", match.group(1))
    return digits if re.fullmatch(r"1[3-9]\d{9}", digits) else None


def normalise_email(text: Optional[str]) -> Optional[str]:
    value = fold(text).strip("。.,,;; ")
    match = re.search(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}", value)
    if not match:
        return None
    email = match.group(0).lower()
    return email if _EMAIL.fullmatch(email) and ".." not in email else None


@dataclass(frozen=True)
class IdentityInput:
    """What an identity answer contained.

    kind: 'order' | 'phone' | 'invalid'; for 'invalid', ``problem`` is one of
    missing, too_short, too_long, wrong_length, phone_letters, phone_prefix,
    parcel_check_digit, ride_length; ``digits`` is how many digits were seen.
    """

    kind: str
    value: Optional[str] = None
    problem: Optional[str] = None
    digits: int = 0


def parse_identity(text: Optional[str]) -> IdentityInput:
    """Find an order id or a phone number in free text, or say what is wrong."""
    value = fold(text)
    order_id = normalise_order_id(value)
    if order_id:
        return IdentityInput("order", order_id)
    phone = normalise_phone(value)
    if phone:
        return IdentityInput("phone", phone)

    compact = re.sub(r"[\s\-]", "", value)
    s10_like = _S10.search(compact)
    if s10_like:
        return IdentityInput("invalid", problem="parcel_check_digit")
    ride_like = _RIDE_LOOSE.search(compact)
    if ride_like:
        return IdentityInput("invalid", problem="ride_length", digits=len(ride_like.group(0)) - 1)
    for candidate in _PHONE_WITH_LETTERS.findall(value):
        compact_candidate = re.sub(r"[\s\-]", "", candidate)
        if re.search(r"[A-Za-z]", compact_candidate) and len(compact_candidate) == 11:
            return IdentityInput("invalid", problem="phone_letters")

    runs = _DIGIT_RUN.findall(compact)
    if not runs:
        return IdentityInput("invalid", problem="missing")
    longest = max(runs, key=len)
    n = len(longest)
    if n == 11:
        return IdentityInput("invalid", problem="phone_prefix", digits=n)
    if n < 11:
        return IdentityInput("invalid", problem="too_short", digits=n)
    if n > 19:
        return IdentityInput("invalid", problem="too_long", digits=n)
    return IdentityInput("invalid", problem="wrong_length", digits=n)


_SURNAME_NOISE = re.compile(r"[我是姓的叫啊呀哦嗯,，.。!！\s]|先生|女士|小姐|免贵")


def owner_answer_matches(kind: str, answer: Optional[str], phone: str, name: str) -> bool:
    """Whether ``answer`` is the second factor ``kind`` of an order placed with ``phone`` by ``name``.

    - "phone_tail": the last four digits of the phone ("5678", "尾号５６７８"),
      or the whole phone; exactly one run of digits, so a list of guesses fails.
    - "surname": the account holder's surname, alone or with the given name
      ("陈", "我姓陈", "陈女士", "陈小红"); a sentence naming several surnames fails.
    """
    text = fold(answer)
    if kind == "phone_tail":
        runs = re.findall(r"\d+", re.sub(r"(?<=\d)[\s-](?=\d)", "", text))
        return len(runs) == 1 and len(phone) == 11 and runs[0] in (phone[-4:], phone)
    if kind == "surname":
        surname = re.sub(r"(先生|女士|小姐)$", "", name or "")
        given = _SURNAME_NOISE.sub("", text)
        return bool(surname) and 0 < len(given) <= 4 and given.startswith(surname)
    return False
