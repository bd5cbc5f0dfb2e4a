"""Masking for everything an agent or a log of the bridge sees.

One implementation: ``core.pii`` (the validated patterns of data/patterns.yml
plus its masking-only patterns). This module only adapts it to the bridge:
``Masker`` loads the patterns once, off the event loop, and never lets a
failure show raw text (a message it cannot mask is hidden whole);
``MaskingFormatter`` masks every log line the bridge writes, whatever a
caller put in it.
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Dict, List, Optional

from core import pii

logger = logging.getLogger(__name__)

#: what an agent sees of a message the masker failed on: nothing of it
HIDDEN = "[内容已隐藏]"


class Masker:
    """``mask(text)`` and ``find(text)`` from core.pii, loaded once, failing closed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._mask: Optional[Callable[[str], str]] = None
        self._find: Optional[Callable[[str], List[Dict[str, Any]]]] = None

    def _load(self) -> None:
        with self._lock:
            if self._mask is not None:
                return
            pii.mask_text("13800000000")  # compile the patterns now, not on a customer's message
            self._mask, self._find = pii.mask_text, pii.find_pii

    def warm_up(self) -> None:
        self._load()

    @property
    def ready(self) -> bool:
        return self._mask is not None

    def mask(self, text: str) -> str:
        if not text:
            return text
        try:
            self._load()
            assert self._mask is not None
            return self._mask(text)
        except Exception:  # never the raw text: hide the whole message instead
            logger.exception("masking failed; the message is hidden from the agent")
            return HIDDEN

    def find(self, text: str) -> List[Dict[str, Any]]:
        if not text:
            return []
        try:
            self._load()
            assert self._find is not None
            return self._find(text)
        except Exception:
            logger.exception("personal data detection failed; nothing to reveal")
            return []


class MaskingFormatter(logging.Formatter):
    """A formatter whose lines (message, arguments, traceback) are masked.

    Loggers anywhere in the bridge may be handed customer text (an exception
    message, a library's warning); masking at the handler catches them all.
    """

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        try:
            return pii.mask_text(line)
        except Exception:  # a log line is not worth a leak
            return f"{record.levelname} {record.name}: [log line hidden: masking failed]"


def install_log_masking(fmt: str) -> None:
    """Mask every handler of the root logger (the bridge's only log output)."""
    for handler in logging.getLogger().handlers:
        handler.setFormatter(MaskingFormatter(fmt))
