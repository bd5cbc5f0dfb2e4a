"""What the bridge accepts from the bot side, made safe instead of refused.

An escalation the bridge refused (HTTP 400) was dropped by the outbox
retry while the customer read "不会丢失": a message over 4,000 characters
in the transcript, or a sender id containing ``/``, longer than 128
characters or with a control character. Now:

- :func:`safe_sender`: an id that cannot be a key or a URL segment becomes
  ``k-`` and 32 hex digits of its SHA-256, the same for the same id. The Kefu
  channels apply it to every incoming id (bot/channels/), so Rasa's
  conversation, the ticket, the agent's replies and the customer's poll URL
  all use the one safe key; the bridge applies it again to what reaches it.
- :func:`split_text`: a text longer than a transcript line may be is kept
  whole as consecutive lines, cut at a space or punctuation where possible
  and never inside a run of digits or Latin letters, so a phone number or an
  order id is masked like everywhere else (the bridge masks every line).
"""
from __future__ import annotations

import hashlib
import re
from typing import Any, Dict, List

#: the ids the bridge's routes and keys take as they are (handoff/models.py SENDER_PATTERN)
_SAFE_SENDER = re.compile(r"[^\x00-\x1f\x7f/]{1,128}")
#: the longest transcript line or customer message text the bridge stores in one piece
LINE_CHARS = 4000
#: the most transcript lines an escalation carries (the newest are kept)
MAX_LINES = 200
_BREAK_AFTER = set(" \t\n\r,.;:!?，。；：！？、…)]）】」』")
_WORD = re.compile(r"[0-9A-Za-z@._+\-]")


def safe_sender(sender: str) -> str:
    """``sender`` if the bridge can use it as it is, else a stable ``k-<hex>`` key for it."""
    if _SAFE_SENDER.fullmatch(sender):
        return sender
    return "k-" + hashlib.sha256(sender.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def split_text(text: str, limit: int = LINE_CHARS) -> List[str]:
    """``text`` in pieces of at most ``limit`` characters that join back to it exactly."""
    pieces: List[str] = []
    while len(text) > limit:
        cut = _cut(text, limit)
        pieces.append(text[:cut])
        text = text[cut:]
    pieces.append(text)
    return pieces


def _cut(text: str, limit: int) -> int:
    """Where to end the next piece: after a break character, else not inside a word or number."""
    floor = limit // 2
    for i in range(limit, floor, -1):
        if text[i - 1] in _BREAK_AFTER:
            return i
    for i in range(limit, floor, -1):
        if not (_WORD.match(text[i - 1]) and _WORD.match(text[i])):
            return i
    return limit


def escalation(payload: Dict[str, Any]) -> Dict[str, Any]:
    """An escalation body with a safe sender and every transcript line within LINE_CHARS."""
    if not isinstance(payload, dict):
        return payload
    out = dict(payload)
    if isinstance(out.get("sender"), str):
        out["sender"] = safe_sender(out["sender"])
    if isinstance(out.get("summary"), str):
        out["summary"] = out["summary"][:500]
    lines = out.get("transcript")
    if isinstance(lines, list):
        kept: List[Any] = []
        for item in lines:
            if isinstance(item, dict) and isinstance(item.get("text"), str) and len(item["text"]) > LINE_CHARS:
                kept.extend(dict(item, text=piece) for piece in split_text(item["text"]))
            else:
                kept.append(item)
        out["transcript"] = kept[-MAX_LINES:]
    return out
