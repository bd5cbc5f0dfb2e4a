"""Understanding targets on the held-out set tests/nlu/ (issue: Understanding).

macro-F1 >= 0.95, report_safety recall = 1.00, order_id / phone_number
entity F1 >= 0.98, and Traditional twins within 2 points of Simplified.
`make eval` writes the full reports; this gate keeps them from regressing.
"""
from __future__ import annotations

import asyncio
import re
from collections import Counter
from functools import lru_cache
from typing import Dict, List, Tuple

import pytest
import yaml
from sklearn.metrics import f1_score

from core.paths import ROOT
from core.text import to_traditional
from tests.model import agent

_ANNOTATED = re.compile(r"\[([^\]]+)\](\((\w+)\)|\{([^}]*)\})")


def strip(text: str) -> Tuple[str, List[Tuple[str, str]]]:
    entities: List[Tuple[str, str]] = []

    def keep(match: "re.Match[str]") -> str:
        if match.group(3):
            label = match.group(3)
        else:
            label = yaml.safe_load("{" + match.group(4) + "}").get("entity", "")
        entities.append((label, match.group(1)))
        return match.group(1)

    return _ANNOTATED.sub(keep, text), entities


@lru_cache(maxsize=1)
def held_out() -> List[Tuple[str, str, List[Tuple[str, str]]]]:
    rows = []
    for path in sorted((ROOT / "tests" / "nlu").rglob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in doc.get("nlu", []) or []:
            if "intent" not in block:
                continue
            for line in str(block.get("examples", "")).splitlines():
                if line.strip().startswith("- "):
                    text, entities = strip(line.strip()[2:])
                    rows.append((block["intent"], text, entities))
    return rows


async def _parse_all(texts: List[str]) -> List[Dict]:
    bot = agent()
    return [await bot.parse_message(t) for t in texts]


@lru_cache(maxsize=2)
def predictions(traditional: bool) -> List[Dict]:
    texts = [to_traditional(t) if traditional else t for _, t, _ in held_out()]
    return asyncio.run(_parse_all(texts))


def intents(traditional: bool = False) -> Tuple[List[str], List[str]]:
    gold = [intent for intent, _, _ in held_out()]
    predicted = [p["intent"]["name"] for p in predictions(traditional)]
    return gold, predicted


def test_intent_macro_f1() -> None:
    gold, predicted = intents()
    score = f1_score(gold, predicted, average="macro", labels=sorted(set(gold)))
    wrong = Counter((g, p) for g, p in zip(gold, predicted) if g != p).most_common(8)
    assert score >= 0.95, f"macro-F1 {score:.3f}; most common confusions {wrong}"


def test_every_safety_message_is_caught() -> None:
    missed = [text for (intent, text, _), p in zip(held_out(), predictions(False)) if intent == "report_safety" and p["intent"]["name"] != "report_safety"]
    assert not missed, f"missed safety messages: {missed}"


def test_safety_is_caught_in_traditional_too() -> None:
    missed = [text for (intent, text, _), p in zip(held_out(), predictions(True)) if intent == "report_safety" and p["intent"]["name"] != "report_safety"]
    assert not missed, f"missed Traditional safety messages: {missed}"


@pytest.mark.parametrize("label", ["order_id", "phone_number"])
def test_entity_f1(label: str) -> None:
    tp = fp = fn = 0
    for (_, _, gold_entities), parsed in zip(held_out(), predictions(False)):
        gold = Counter(v for l, v in gold_entities if l == label)
        found = Counter(e["value"] for e in parsed["entities"] if e["entity"] == label)
        tp += sum((gold & found).values())
        fp += sum((found - gold).values())
        fn += sum((gold - found).values())
    assert tp + fn > 0, f"no {label} in the evaluation set"
    f1 = 2 * tp / (2 * tp + fp + fn)
    assert f1 >= 0.98, f"{label} F1 {f1:.3f} (tp {tp}, fp {fp}, fn {fn})"


def test_traditional_within_two_points_of_simplified() -> None:
    gold, simplified = intents(False)
    _, traditional = intents(True)
    labels = sorted(set(gold))
    f_simple = f1_score(gold, simplified, average="macro", labels=labels)
    f_trad = f1_score(gold, traditional, average="macro", labels=labels)
    assert f_simple - f_trad <= 0.02, f"Simplified {f_simple:.3f} vs Traditional {f_trad:.3f}"
