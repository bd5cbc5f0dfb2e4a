"""Masking for everything an agent or a log sees.

Uses the project's detector (``bot.pii``, loaded on first use). If it cannot
be loaded, a conservative fallback masks every long run of digits, so raw
phone, ID and card numbers never reach an agent.
"""
from __future__ import annotations

import logging
import re
import threading
from typing import Any, Callable, Dict, List, Optional

logger = logging.getLogger(__name__)

_DIGITS = re.compile(r"\+?\d[\d\s-]{5,}\d[\dXx]?")


def _fallback_find(text: str) -> List[Dict[str, Any]]:
    return [
        {"label": "number", "start": m.start(), "end": m.end(), "value": m.group(0)}
        for m in _DIGITS.finditer(text or "")
    ]


def _fallback_mask(text: str) -> str:
    def hide(match: "re.Match[str]") -> str:
        value = match.group(0)
        return "*" * (len(value) - 4) + value[-4:]

    return _DIGITS.sub(hide, text or "")


class Masker:
    """``mask(text)`` and ``find(text)`` backed by bot.pii when available."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._mask: Optional[Callable[[str], str]] = None
        self._find: Optional[Callable[[str], List[Dict[str, Any]]]] = None

    def _load(self) -> None:
        with self._lock:
            if self._mask is not None:
                return
            try:
                from bot.pii import find_pii, mask_text

                mask_text("13800000000")  # load the pipeline now, not on a customer's message
                self._mask, self._find = mask_text, find_pii
            except Exception as exc:  # missing module or model: never leak, mask digits
                logger.warning("bot.pii unavailable (%s); masking every long number instead", exc)
                self._mask, self._find = _fallback_mask, _fallback_find

    def warm_up(self) -> None:
        self._load()

    @property
    def ready(self) -> bool:
        return self._mask is not None

    def mask(self, text: str) -> str:
        if not text:
            return text
        self._load()
        assert self._mask is not None
        try:
            return self._mask(text)
        except Exception:
            logger.exception("masking failed; masking every long number instead")
            return _fallback_mask(text)

    def find(self, text: str) -> List[Dict[str, Any]]:
        if not text:
            return []
        self._load()
        assert self._find is not None
        try:
            return self._find(text)
        except Exception:
            logger.exception("PII detection failed; using the digit fallback")
            return _fallback_find(text)
