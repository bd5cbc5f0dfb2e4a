"""Rasa component: an anger / urgency signal on every message.

A lexicon (data/sentiment_lexicon.yml) plus cues customers use when they
are upset: !!! and ??? runs, SHOUTED English, angry emoji, insults. The
result is in the parse data as ``sentiment`` = {label: calm|angry|urgent|fear,
score, anger, urgency, fear, fury}; ``fury`` (an insult, or shouting and
!!! together) means a person at once. Fear is its own label (我好害怕 is
not calm, and it wins over an equal anger score); anger is read past the
politeness words customers wrap it in (您好 请问 你们到底还要我等多久 谢谢:
sarcasm, repetition, refused apologies are in the lexicon). A frightened or
angry customer's ticket is P1 (handoff.queue.priority_for). Actions read it from
``tracker.latest_message`` to escalate.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from core.paths import SENTIMENT_LEXICON_FILE

_EXCLAIM = re.compile(r"!{2,}")
_EXCLAIM_RUN = re.compile(r"!{3,}")
_QUESTION = re.compile(r"\?{2,}")
_CAPS = re.compile(r"\b[A-Z]{3,}\b")
_SHOUT = re.compile(r"\b[A-Z]{2,}\b")


@dataclass(frozen=True)
class SentimentLexicon:
    anger: Dict[str, float]
    urgency: Dict[str, float]
    anger_emoji: List[str]
    urgency_emoji: List[str]
    cues: Dict[str, float]
    fear: Dict[str, float] = field(default_factory=dict)
    fear_emoji: List[str] = field(default_factory=list)
    fury: float = 2.0

    @classmethod
    def load(cls, path: Path = SENTIMENT_LEXICON_FILE) -> "SentimentLexicon":
        with open(path, encoding="utf-8") as handle:
            spec = yaml.safe_load(handle) or {}
        emoji = spec.get("emoji", {})
        return cls(
            anger={str(k): float(v) for k, v in spec.get("anger", {}).items()},
            urgency={str(k): float(v) for k, v in spec.get("urgency", {}).items()},
            anger_emoji=list(emoji.get("anger", [])),
            urgency_emoji=list(emoji.get("urgency", [])),
            cues={str(k): float(v) for k, v in spec.get("cues", {}).items()},
            fear={str(k): float(v) for k, v in (spec.get("fear") or {}).items()},
            fear_emoji=list(emoji.get("fear", [])),
            fury=float(spec.get("fury", 2.0)),
        )

    def score(self, text: str) -> Dict[str, Any]:
        anger = sum(w for k, w in self.anger.items() if k in text)
        urgency = sum(w for k, w in self.urgency.items() if k in text)
        anger += sum(1.0 for e in self.anger_emoji if e in text)
        urgency += sum(0.6 for e in self.urgency_emoji if e in text)
        if _EXCLAIM.search(text):
            anger += self.cues.get("exclamations", 0.0)
            urgency += self.cues.get("exclamations", 0.0) / 2
        if _EXCLAIM_RUN.search(text):
            anger += self.cues.get("exclamations_run", 0.0)
        if _QUESTION.search(text):
            anger += self.cues.get("questions", 0.0)
        if _CAPS.search(text):
            anger += self.cues.get("caps_word", 0.0)
            if len(_SHOUT.findall(text)) >= 2:
                anger += self.cues.get("caps_shout", 0.0)
        fear = sum(w for k, w in self.fear.items() if k in text)
        fear += sum(1.0 for e in self.fear_emoji if e in text)
        # Fear first when it is at least as strong as the anger: "我好害怕!!" is a
        # frightened customer, not an angry one; polite words never lower a score.
        if fear >= 1.0 and fear >= anger:
            label = "fear"
        elif anger >= 1.0 and anger >= urgency:
            label = "angry"
        elif urgency >= 1.0 and urgency >= fear:
            label = "urgent"
        elif fear >= 1.0:
            label = "fear"
        elif anger >= 1.0:
            label = "angry"
        else:
            label = "calm"
        return {
            "label": label,
            "score": round(min(max(anger, urgency, fear) / 3.0, 1.0), 3),
            "anger": round(anger, 2),
            "urgency": round(urgency, 2),
            "fear": round(fear, 2),
            "fury": anger >= self.fury,
        }


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False
)
class SentimentAnalyzer(GraphComponent):
    def __init__(self, lexicon: SentimentLexicon) -> None:
        self.lexicon = lexicon

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SentimentAnalyzer":
        return cls(SentimentLexicon.load())

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            # The normalised text: Simplified, width-folded (！！ is !!), bounded.
            result = self.lexicon.score(message.get(TEXT) or "")
            message.set("sentiment", result, add_to_output=True)
        return messages
