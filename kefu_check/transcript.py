"""Readable transcripts of stored conversations, and test stories from them.

Conversations live in the Redis tracker store (endpoints.yml: ``type: redis``,
``key_prefix: "kefu"``). Rasa 3.6's RedisTrackerStore stores each tracker as
JSON (``{"events": [...], "name": sender_id}``) under
``<key_prefix>:tracker:<sender_id>`` (``_set_key_prefix`` appends
``DEFAULT_REDIS_TRACKER_STORE_KEY_PREFIX = "tracker:"``), e.g.
``kefu:tracker:abc123``. Everything printed is masked with
:func:`core.pii.mask_text`.
"""
from __future__ import annotations

import json
import os
from datetime import datetime
from typing import Any, Callable, Dict, List, Optional
from urllib.parse import quote

import redis

from bot.runner.redis_server import stored_password
from core.paths import data_dir
from core.pii import mask_text
from core.redis_url import RedisSettings, RedisUrlError, redacted

# rasa.core.tracker_store.DEFAULT_REDIS_TRACKER_STORE_KEY_PREFIX (checked by
# tests/check/test_transcript.py against the installed Rasa).
RASA_TRACKER_KEY_PREFIX = "tracker:"
DEFAULT_KEY_PREFIX = "kefu"
# Events that are bookkeeping, not part of what anyone said or did.
SKIPPED_ACTIONS = {"action_listen", "action_session_start"}

Masker = Callable[[str], str]
Event = Dict[str, Any]


class TranscriptError(RuntimeError):
    """The conversation could not be read; the message is for editors."""


def tracker_key(sender_id: str, key_prefix: str = DEFAULT_KEY_PREFIX) -> str:
    prefix = f"{key_prefix}:{RASA_TRACKER_KEY_PREFIX}" if key_prefix and key_prefix.isalnum() else RASA_TRACKER_KEY_PREFIX
    return prefix + sender_id


def default_redis_url() -> str:
    """The bot's Redis from the same variables as endpoints.yml (Makefile defaults)."""
    host = os.environ.get("KEFU_REDIS_HOST", "127.0.0.1")
    port = os.environ.get("KEFU_REDIS_PORT", "6380")
    db = os.environ.get("KEFU_REDIS_DB", "0")
    password = os.environ.get("KEFU_REDIS_PASSWORD", "")
    password = password or stored_password(data_dir())  # the embedded Redis's own (bot/runner/stack.py)
    auth = f":{quote(password, safe='')}@" if password else ""
    return f"redis://{auth}{host}:{port}/{db}"


def load_events(sender_id: str, redis_url: str, key_prefix: str = DEFAULT_KEY_PREFIX) -> List[Event]:
    try:  # TLS, ACL user, Sentinel: the parser every client of the stack uses
        client = RedisSettings.parse(redis_url).client(decode_responses=True, socket_timeout=5)
    except RedisUrlError as exc:
        raise TranscriptError(str(exc)) from None
    try:
        stored = client.get(tracker_key(sender_id, key_prefix))
    except redis.RedisError as exc:
        raise TranscriptError(f"无法连接 Redis({redacted(redis_url)}): {exc}") from exc
    finally:
        client.close()
    if stored is None:
        raise TranscriptError(f"找不到会话 {sender_id}(Redis 键 {tracker_key(sender_id, key_prefix)})")
    return list(json.loads(stored).get("events") or [])


def _default_mask(text: str) -> str:
    return mask_text(text)


def _time(event: Event) -> str:
    stamp = event.get("timestamp")
    if not isinstance(stamp, (int, float)):
        return "--:--:--"
    return datetime.fromtimestamp(stamp).strftime("%H:%M:%S")


def _speaker(event: Event) -> str:
    metadata = event.get("metadata") or {}
    if metadata.get("from") == "agent":
        name = metadata.get("agent_name")
        return f"人工客服({name})" if name else "人工客服"
    return "机器人"


def render_transcript(events: List[Event], sender_id: str, mask: Optional[Masker] = None) -> str:
    """One line per message: time, who, masked text; intent for the customer."""
    mask = mask or _default_mask
    lines = [f"会话 {sender_id}"]
    first = next((e.get("timestamp") for e in events if isinstance(e.get("timestamp"), (int, float))), None)
    if first is not None:
        lines[0] += f"  开始于 {datetime.fromtimestamp(first):%Y-%m-%d %H:%M:%S}"
    for event in events:
        kind = event.get("event")
        if kind == "session_started":
            lines.append(f"{_time(event)}  —— 新的会话开始 ——")
        elif kind == "user":
            parse = event.get("parse_data") or {}
            intent = (parse.get("intent") or {}).get("name") or ""
            confidence = (parse.get("intent") or {}).get("confidence")
            label = f"{intent} {confidence:.2f}" if isinstance(confidence, (int, float)) else intent
            text = mask(str(event.get("text") or ""))
            lines.append(f"{_time(event)}  客户: {text}" + (f"  [意图: {label}]" if label else ""))
        elif kind == "bot":
            text = mask(str(event.get("text") or ""))
            buttons = (event.get("data") or {}).get("buttons") or []
            if buttons:
                text += "  " + " ".join(f"[{mask(str(b.get('title', '')))}]" for b in buttons if isinstance(b, dict))
            lines.append(f"{_time(event)}  {_speaker(event)}: {text}")
    return "\n".join(lines) + "\n"


def _annotated(text: str, entities: List[Dict[str, Any]], mask: Masker) -> str:
    """Customer text with ``[value](entity)`` markup, every part masked."""
    spans: Dict[int, Dict[str, Any]] = {}
    for entity in entities:
        if isinstance(entity.get("start"), int) and isinstance(entity.get("end"), int) and entity.get("entity"):
            spans.setdefault(int(entity["start"]), entity)  # one label per span
    out: List[str] = []
    cursor = 0
    for start in sorted(spans):
        entity = spans[start]
        end = int(entity["end"])
        if start < cursor or end > len(text):
            continue
        out.append(mask(text[cursor:start]))
        out.append(f"[{mask(text[start:end])}]({entity['entity']})")
        cursor = end
    out.append(mask(text[cursor:]))
    return "".join(out)


def render_story(events: List[Event], sender_id: str, mask: Optional[Masker] = None) -> str:
    """A Rasa test story (tests/test_stories format) of the conversation."""
    mask = mask or _default_mask
    steps: List[str] = []
    for event in events:
        kind = event.get("event")
        if kind == "user":
            parse = event.get("parse_data") or {}
            intent = (parse.get("intent") or {}).get("name") or "nlu_fallback"
            text = str(event.get("text") or "")
            if not text or text.startswith("/"):
                steps.append(f"      - intent: {intent}")
                continue
            annotated = _annotated(text, list(parse.get("entities") or []), mask)
            body = "\n".join(f"          {line}" for line in annotated.splitlines() or [""])
            steps.append(f"      - user: |\n{body}\n        intent: {intent}")
        elif kind == "action" and event.get("name") and event["name"] not in SKIPPED_ACTIONS:
            steps.append(f"      - action: {event['name']}")
        elif kind == "active_loop":
            steps.append(f"      - active_loop: {event.get('name') or 'null'}")
    header = [
        "# 由 scripts/transcript.py --story 生成:检查每一步后放进 tests/test_stories/。",
        "# 个人信息已打码;需要时换成测试用的号码(例如 13800138000)。",
        'version: "3.1"',
        "stories:",
        f"  - story: 会话 {sender_id}",
        "    steps:",
    ]
    return "\n".join(header + steps) + "\n"
