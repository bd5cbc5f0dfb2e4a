"""The evaluation set is held out: no line of it is in the training data."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, Set

import yaml

from core.paths import ROOT
from core.text import to_simplified

# ../shared/INTENTS.md: a contract shared with external evaluations.
CONTRACT_INTENTS = [
    "greet", "goodbye", "thank", "affirm", "deny", "query_order_status", "request_refund",
    "report_delay", "report_safety", "payment_issue", "cancel_order", "complain_service",
    "report_damage", "change_order_info", "fee_dispute", "request_invoice", "request_human",
    "inform", "out_of_scope",
]
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


def examples(folder: Path) -> Dict[str, Set[str]]:
    found: Dict[str, Set[str]] = {}
    for path in sorted(folder.rglob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in doc.get("nlu", []) or []:
            if "intent" not in block:
                continue
            for line in str(block.get("examples", "")).splitlines():
                line = line.strip()
                if line.startswith("- "):
                    text = _ANNOTATION.sub(r"\1", line[2:]).strip()
                    found.setdefault(block["intent"], set()).add(re.sub(r"\s+", "", to_simplified(text)))
    return found


def test_no_evaluation_line_is_in_training() -> None:
    train = set().union(*examples(ROOT / "data" / "nlu").values())
    held_out = examples(ROOT / "tests" / "nlu")
    leaked = sorted(t for texts in held_out.values() for t in texts if t in train)
    assert not leaked, f"evaluation lines also in training data: {leaked[:10]}"


def test_every_contract_intent_has_training_and_evaluation_examples() -> None:
    intents = CONTRACT_INTENTS + ["rate"]
    train = examples(ROOT / "data" / "nlu")
    held_out = examples(ROOT / "tests" / "nlu")
    for intent in intents:
        assert len(train.get(intent, ())) >= 60, f"{intent}: {len(train.get(intent, ()))} training examples"
        assert len(held_out.get(intent, ())) >= 20, f"{intent}: {len(held_out.get(intent, ()))} evaluation examples"
