"""Safety net by construction (issue 14): every family of danger is caught
by the lexicon alone, and what only sounds alarming is not.

The lines are in tests/nlu_checks/data/safety_cases.yml, written fresh for
this test and never trained on. The lexicon tests need no model (they hold
whatever DIET learns); the model tests check the whole NLU agrees, in both
scripts, and that a low-confidence report_safety without a cue is demoted.
"""
from __future__ import annotations

import asyncio
from functools import lru_cache
from typing import Dict, List, Tuple

import pytest
import yaml

from core.paths import ROOT
from bot.nlu.safety import SafetyLexicon
from core.text import to_simplified, to_traditional
from tests.model import agent

CASES = ROOT / "tests" / "nlu_checks" / "data" / "safety_cases.yml"
FAMILIES = ("door", "calls_messages", "assault", "drunk_drugged", "detour", "locked_in",
            "accident_injury", "stalking", "sexual_harassment")


@lru_cache(maxsize=1)
def cases() -> Dict[str, object]:
    return yaml.safe_load(CASES.read_text(encoding="utf-8"))


def danger() -> List[Tuple[str, str]]:
    return [(family, line) for family, lines in cases()["danger"].items() for line in lines]


def safe() -> List[str]:
    return list(cases()["safe"])


@lru_cache(maxsize=1)
def lexicon() -> SafetyLexicon:
    return SafetyLexicon.load()


def test_every_family_of_danger_has_cases_and_a_pattern_family() -> None:
    assert set(FAMILIES) <= set(cases()["danger"]), "a family of danger has no test lines"
    assert set(FAMILIES) <= set(lexicon().families), "a family of danger has no patterns"
    assert all(len(cases()["danger"][f]) >= 5 for f in FAMILIES)


@pytest.mark.parametrize("family,line", danger())
def test_the_lexicon_alone_catches_every_danger_line(family: str, line: str) -> None:
    simplified = to_simplified(line)
    assert lexicon().cues(simplified), f"[{family}] not caught by data/safety_lexicon.yml: {line}"


@pytest.mark.parametrize("line", safe())
def test_late_unreachable_rude_or_poor_service_is_not_danger(line: str) -> None:
    assert not lexicon().cues(to_simplified(line)), f"false alarm: {line} → {lexicon().cues(to_simplified(line))}"


def test_families_name_the_kind_of_danger() -> None:
    assert "locked_in" in lexicon().families_of("司机把车门反锁了不放我出去")
    assert "calls_messages" in lexicon().families_of("半夜一直给我打电话")
    assert lexicon().families_of("骑手联系不上") == []


async def _parse_all(texts: List[str]) -> List[Dict]:
    bot = agent()
    return [await bot.parse_message(t) for t in texts]


@lru_cache(maxsize=2)
def parsed(traditional: bool) -> Tuple[Tuple[str, str, str], ...]:
    lines = [line for _, line in danger()] + safe()
    texts = [to_traditional(t) if traditional else t for t in lines]
    results = asyncio.run(_parse_all(texts))
    return tuple((line, r["intent"]["name"], str((r.get("safety") or {}).get("families"))) for line, r in zip(lines, results))


@pytest.mark.parametrize("traditional", [False, True], ids=["simplified", "traditional"])
def test_the_model_reports_every_danger_line_as_safety(traditional: bool) -> None:
    danger_lines = {line for _, line in danger()}
    missed = [line for line, intent, _ in parsed(traditional) if line in danger_lines and intent != "report_safety"]
    assert not missed, f"recall below 1.00: {missed}"


@pytest.mark.parametrize("traditional", [False, True], ids=["simplified", "traditional"])
def test_the_model_raises_no_alarm_on_the_non_danger_lines(traditional: bool) -> None:
    safe_lines = set(safe())
    alarms = [line for line, intent, _ in parsed(traditional) if line in safe_lines and intent == "report_safety"]
    assert not alarms, f"precision: false alarms {alarms}"
