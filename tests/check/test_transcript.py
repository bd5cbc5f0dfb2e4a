"""Transcripts from a tracker saved by Rasa's RedisTrackerStore in a real redis-server."""
from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import redis
import yaml

from kefu_check.transcript import load_events, render_story, render_transcript, tracker_key

ROOT = Path(__file__).resolve().parents[2]
PHONE = "13812345678"


def _save_tracker(redis_url: str, sender: str) -> None:
    from rasa.core.tracker_store import RedisTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    url = urlparse(redis_url)
    store = RedisTrackerStore(Domain.empty(), host=url.hostname or "127.0.0.1", port=url.port or 6379,
                              db=int((url.path or "/0").strip("/") or 0), key_prefix="kefu")
    tracker = DialogueStateTracker(sender, [])
    for event in [
        ActionExecuted("action_session_start", timestamp=1700000000.0),
        SessionStarted(timestamp=1700000000.1),
        ActionExecuted("action_listen", timestamp=1700000000.2),
        UserUttered(f"我的手机号是{PHONE}", parse_data={
            "intent": {"name": "inform", "confidence": 0.97},
            "entities": [{"entity": "phone_number", "start": 6, "end": 17, "value": PHONE}],
        }, timestamp=1700000001.0),
        ActionExecuted("utter_identity_verified", timestamp=1700000002.0),
        BotUttered("已为您核实手机号 138****5678", metadata={"utter_action": "utter_identity_verified"},
                   timestamp=1700000002.1),
        UserUttered("司机开得太快了,我很害怕", parse_data={"intent": {"name": "report_safety", "confidence": 0.99},
                                                  "entities": []}, timestamp=1700000003.0),
        ActionExecuted("action_safety_handoff", timestamp=1700000004.0),
        BotUttered("您好,我是安全专员小李", metadata={"from": "agent", "agent_name": "小李"}, timestamp=1700000005.0),
    ]:
        tracker.update(event)
    asyncio.run(store.save(tracker))


def test_key_format_matches_installed_rasa() -> None:
    from rasa.core.tracker_store import DEFAULT_REDIS_TRACKER_STORE_KEY_PREFIX

    assert tracker_key("abc") == f"kefu:{DEFAULT_REDIS_TRACKER_STORE_KEY_PREFIX}abc" == "kefu:tracker:abc"


def test_transcript_from_real_redis_is_readable_and_masked(redis_url: str) -> None:
    _save_tracker(redis_url, "conv-1")
    assert redis.Redis.from_url(redis_url).exists("kefu:tracker:conv-1")
    events = load_events("conv-1", redis_url)
    text = render_transcript(events, "conv-1")
    assert PHONE not in text and "138****5678" in text
    assert "客户: 我的手机号是138****5678  [意图: inform 0.97]" in text
    assert "机器人: 已为您核实手机号" in text
    assert "人工客服(小李): 您好,我是安全专员小李" in text
    assert "[意图: report_safety" in text


def test_story_output_is_a_valid_test_story(redis_url: str) -> None:
    _save_tracker(redis_url, "conv-2")
    story = render_story(load_events("conv-2", redis_url), "conv-2")
    assert PHONE not in story
    steps = yaml.safe_load(story)["stories"][0]["steps"]
    assert steps[0] == {"user": "我的手机号是[138****5678](phone_number)\n", "intent": "inform"}
    assert {"action": "utter_identity_verified"} in steps
    assert {"action": "action_safety_handoff"} in steps
    assert not any(s.get("action") in ("action_listen", "action_session_start") for s in steps)
    assert steps[2]["intent"] == "report_safety"


def test_script_cli(redis_url: str) -> None:
    _save_tracker(redis_url, "conv-3")
    run = subprocess.run([sys.executable, "scripts/transcript.py", "conv-3", "--redis-url", redis_url],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "138****5678" in run.stdout and PHONE not in run.stdout
    missing = subprocess.run([sys.executable, "scripts/transcript.py", "nope", "--redis-url", redis_url],
                             cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert missing.returncode == 1 and "找不到会话 nope" in missing.stderr
