"""Settings, the add-agent CLI and the handoff responses customers read."""
from __future__ import annotations

import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from core.responses import MissingResponse, render
from handoff.agents import AgentDirectory, token_hash
from handoff.settings import Settings, SettingsError
from tests.conftest import ROOT

HANDOFF_DOMAIN = ROOT / "domain" / "handoff.yml"


def test_defaults() -> None:
    s = Settings.from_env({"KEFU_INTERNAL_TOKEN": "x", "KEFU_RASA_TOKEN": "y"})
    assert (s.redis_url, s.host, s.port, s.rasa_url) == ("redis://127.0.0.1:6379/0", "127.0.0.1", 5006, "http://127.0.0.1:5005")
    assert s.lease_seconds == 30 and s.max_chats == 3 and dict(s.sla_seconds) == {"P0": 60, "P1": 300, "P2": 900}


@pytest.mark.parametrize("name,value", [
    ("KEFU_HANDOFF_PORT", "abc"), ("KEFU_HANDOFF_PORT", "70000"), ("REDIS_URL", "localhost:6379"),
    ("RASA_URL", "ftp://x"), ("KEFU_HANDOFF_LEASE_SECONDS", "0"), ("KEFU_AGENT_MAX_CHATS", "-1"),
    ("KEFU_SLA_P0_SECONDS", "soon"),
])
def test_bad_values_fail_fast_with_one_line_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as err:
        Settings.from_env({"KEFU_INTERNAL_TOKEN": "x", "KEFU_RASA_TOKEN": "y", name: value})
    message = str(err.value)
    assert name in message and "\n" not in message and re.search(r"[\u4e00-\u9fff]", message)


def test_add_agent_cli_prints_a_token_once_and_stores_only_its_hash(tmp_path: Path) -> None:
    agents = tmp_path / "agents.json"
    env = {"KEFU_AGENTS_FILE": str(agents), "KEFU_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-m", "handoff", "add-agent", "--id", "a1", "--name", "小王", "--skills", "safety"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    token = out.stdout.strip().split()[-1]
    stored = agents.read_text()
    assert token not in stored and token_hash(token) in stored
    agent = AgentDirectory(agents).by_token(token)
    assert agent is not None and agent.name == "小王" and agent.skills == ("safety",)
    bad = subprocess.run([sys.executable, "-m", "handoff"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         env=dict(env, KEFU_HANDOFF_PORT="nope"))
    assert bad.returncode == 2 and "KEFU_HANDOFF_PORT" in bad.stderr


def test_render_fills_variables_and_converts_to_traditional() -> None:
    text = render("utter_handoff_position", rng=random.Random(0), position=3, wait_minutes=7)
    assert "3" in text and "7" in text and "{" not in text
    hant = render("utter_handoff_left_queue", traditional=True)
    assert "取消人工排隊" in hant
    with pytest.raises(MissingResponse):
        render("utter_does_not_exist")


def test_handoff_responses_are_polite_and_use_no_forbidden_phrase() -> None:
    domain = yaml.safe_load(HANDOFF_DOMAIN.read_text(encoding="utf-8"))
    forbidden = [f["phrase"] for f in yaml.safe_load((ROOT / "data" / "forbidden_phrases.yml").read_text(encoding="utf-8"))["forbidden"]]
    texts = [v["text"] for variants in domain["responses"].values() for v in variants]
    assert len(texts) >= 10
    for text in texts:
        assert "你" not in text, text
        assert not [p for p in forbidden if p in text], text
    assert set(domain["slots"]) == {"handoff_reason", "handoff_summary"}
    assert domain["actions"] == ["action_handoff"]
