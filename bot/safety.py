"""Rasa component: the safety net after the classifiers.

It also answers messages with nothing left to understand (empty, only HTML
tags or control characters) with out_of_scope rather than a guess.

DIET is good, not perfect; a missed "司机喝酒了" is the worst failure this
product can have. Any message matching data/safety_lexicon.yml becomes
report_safety with confidence 1.0 (the model's ranking is kept for the
record), and ``safety`` in the parse data says which cues fired.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.paths import SAFETY_LEXICON_FILE

SAFETY_INTENT = "report_safety"


@dataclass(frozen=True)
class SafetyLexicon:
    keywords: List[str]
    patterns: List["re.Pattern[str]"]

    @classmethod
    def load(cls, path: Path = SAFETY_LEXICON_FILE) -> "SafetyLexicon":
        with open(path, encoding="utf-8") as handle:
            spec = yaml.safe_load(handle) or {}
        return cls(
            keywords=[str(k).lower() for k in spec.get("keywords", [])],
            patterns=[re.compile(p, re.IGNORECASE) for p in spec.get("patterns", [])],
        )

    def cues(self, text: str) -> List[str]:
        lowered = text.lower()
        found = [k for k in self.keywords if k in lowered]
        found += [m.group(0) for p in self.patterns for m in [p.search(text)] if m]
        return found


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False
)
class SafetyNet(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"lexicon_path": None}

    def __init__(self, lexicon: SafetyLexicon) -> None:
        self.lexicon = lexicon

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SafetyNet":
        path: Optional[str] = config.get("lexicon_path")
        return cls(SafetyLexicon.load(Path(path) if path else SAFETY_LEXICON_FILE))

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if not any(c.isalnum() or ord(c) > 0x2E7F for c in text):
                # Nothing left after cleaning (empty, only tags or control
                # characters): a polite out-of-scope answer, not a guess.
                blank = {"name": "out_of_scope", "confidence": 1.0}
                message.set(INTENT, blank, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [blank], add_to_output=True)
                continue
            cues = self.lexicon.cues(text)
            if not cues:
                continue
            message.set("safety", {"cues": cues[:10]}, add_to_output=True)
            intent = message.get(INTENT) or {}
            if intent.get("name") == SAFETY_INTENT:
                continue
            ranking = [r for r in (message.get(INTENT_RANKING_KEY) or []) if r.get("name") != SAFETY_INTENT]
            forced = {"name": SAFETY_INTENT, "confidence": 1.0}
            message.set(INTENT, forced, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [forced] + ranking, add_to_output=True)
        return messages
