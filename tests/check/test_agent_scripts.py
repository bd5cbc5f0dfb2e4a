"""make check lints the console's scripts file (data/agent_scripts.yml): each
rule fires on the broken fixture at the right line, the real file is clean,
and what an editor adds (a synonym) is what the console searches by."""
from __future__ import annotations

from pathlib import Path

import yaml

from core.responses import load_responses
from handoff.scripts import build_library, read_data
from kefu_check.agent_scripts import check_agent_scripts
from kefu_check.lint import run_lint
from kefu_check.project import load_project

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "scripts"


def test_every_rule_fires_on_the_broken_file_with_its_line() -> None:
    project = load_project(FIXTURE)
    found = {(f.path, f.line, f.rule) for f in check_agent_scripts(FIXTURE, project.responses)}
    assert found == {
        ("data/agent_scripts.yml", 4, "agent-script-format"),  # synonyms: 迟到 is not a list
        ("data/agent_scripts.yml", 9, "agent-script-title"),  # 开场问候 twice
        ("data/agent_scripts.yml", 10, "agent-script-category"),  # refunds is no category
        ("data/agent_scripts.yml", 10, "agent-script-variable"),  # {refund_amount} has no label
        ("data/agent_scripts.yml", 11, "agent-script-unknown"),  # utter_gone is not in the domain
        ("domain/main.yml", 9, "agent-script-missing"),  # utter_new_reply is in neither list
    }


def test_messages_tell_the_editor_what_to_do() -> None:
    project = load_project(FIXTURE)
    text = "\n".join(f.format() for f in check_agent_scripts(FIXTURE, project.responses))
    assert "{refund_amount}" in text and "variables" in text
    assert "utter_new_reply" in text and "not_for_agents" in text


def test_the_real_file_is_clean_and_covers_every_reply() -> None:
    findings = [f for f in run_lint(ROOT) if f.rule.startswith("agent-script")]
    assert not findings, "\n".join(f.format() for f in findings)
    data = read_data()
    assert set(data["scripts"]) | set(data["not_for_agents"]) == set(load_responses())


def test_a_synonym_an_editor_adds_is_searched(tmp_path: Path) -> None:
    data = read_data()
    before = build_library(data, load_responses())
    assert not before.search("超时赔付")
    data["scripts"]["utter_delay_coupon"]["synonyms"] = ["超时赔付"]
    (tmp_path / "agent_scripts.yml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    after = build_library(read_data(tmp_path / "agent_scripts.yml"), load_responses())
    assert [s.name for s in after.search("超时赔付")] == ["utter_delay_coupon"]
    assert not after.problems
