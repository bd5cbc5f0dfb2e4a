"""Training sentences compared as sentences: entity markup off, width, script and case folded.

Shared by the duplicate and leak rules (kefu_check/lint.py), the near-copy
rule (kefu_check/nearcopy.py) and the evaluation (kefu_check/evaluation.py).
"""
from __future__ import annotations

import re
import unicodedata

from core.text import to_simplified

_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")
_SPACES = re.compile(r"\s+")


def strip_annotations(text: str) -> str:
    """``[京A12345](plate_number)`` → ``京A12345``."""
    return _ANNOTATION.sub(lambda m: m.group(1), text)


def normalise(text: str) -> str:
    """The form under which two examples count as the same sentence.

    Entity markup removed, width-folded (NFKC), Traditional→Simplified,
    case-folded, spaces collapsed and trimmed.
    """
    plain = unicodedata.normalize("NFKC", strip_annotations(text))
    plain = to_simplified(plain).casefold()
    return _SPACES.sub(" ", plain).strip()
