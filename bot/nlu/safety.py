"""Rasa component: the safety net after the classifiers.

It also settles messages the classifier cannot read: nothing left to
understand is a greeting when the message was empty (the stock rasa-webchat
widget opens with one) and out_of_scope when it was only HTML tags or
control characters; only emoji is a greeting
(👋 😊) or a sad message (😭, intent ``feel_upset``); Japanese, or an
English sentence the classifier did not place, is ``foreign_language`` (a
polite Chinese answer and a way forward), never a "did not understand".

DIET is good, not perfect; a missed "司机喝酒了" is the worst failure this
product can have. Any message matching data/safety_lexicon.yml becomes
report_safety with confidence 1.0 (the model's ranking is kept for the
record), and ``safety`` in the parse data says which cues and which
families of danger fired (``families``: door, calls_messages, assault,
drunk_drugged, detour, locked_in, accident_injury, stalking,
sexual_harassment). The families are regexes written for recall by
construction; tests/nlu_checks/test_safety_net.py holds danger and
non-danger lines for each.

Precision the other way: DIET alone (no cue) saying report_safety with
less than ``min_model_confidence`` is a guess on a message that names no
danger ("说好今天到的"), so the next intent of its ranking is taken.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from core.paths import SAFETY_LEXICON_FILE

SAFETY_INTENT = "report_safety"
GREET_INTENT = "greet"
UPSET_INTENT = "feel_upset"
FOREIGN_INTENT = "foreign_language"
#: what the classifier may say about an English sentence that we leave alone
#: small talk English handles fine ("ok thank you so much"): every other English
#: sentence gets the polite Chinese answer that asks for the order number
_ENGLISH_SMALL_TALK = {"greet", "thank", "goodbye", "affirm", "deny"}
_KANA = re.compile(r"[\u3040-\u30ff]")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
#: an order or phone number in the message (then it is not "only English")
_DIGITS = re.compile(r"[0-9]{5,}")
SITUATIONS = ("injury", "door", "trip")


@dataclass(frozen=True)
class SafetyLexicon:
    keywords: List[str]
    patterns: List["re.Pattern[str]"]
    families: Dict[str, List["re.Pattern[str]"]] = field(default_factory=dict)
    situations: Dict[str, List[str]] = field(default_factory=dict)
    followup: List[str] = field(default_factory=list)
    greet_emoji: List[str] = field(default_factory=list)
    upset_emoji: List[str] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path = SAFETY_LEXICON_FILE) -> "SafetyLexicon":
        with open(path, encoding="utf-8") as handle:
            spec = yaml.safe_load(handle) or {}
        emoji = spec.get("emoji_only") or {}
        return cls(
            keywords=[str(k).lower() for k in spec.get("keywords", [])],
            patterns=[re.compile(p, re.IGNORECASE) for p in spec.get("patterns", [])],
            families={str(name): [re.compile(p, re.IGNORECASE) for p in patterns or []]
                      for name, patterns in (spec.get("families") or {}).items()},
            situations={str(k): [str(c) for c in v or []] for k, v in (spec.get("situations") or {}).items()},
            followup=[str(k) for k in spec.get("followup", [])],
            greet_emoji=[str(e) for e in emoji.get("greet", [])],
            upset_emoji=[str(e) for e in emoji.get("upset", [])],
        )

    def cues(self, text: str) -> List[str]:
        lowered = text.lower()
        found = [k for k in self.keywords if k in lowered]
        found += [m.group(0) for p in self.patterns for m in [p.search(text)] if m]
        found += [m.group(0) for patterns in self.families.values() for p in patterns for m in [p.search(text)] if m]
        return found

    def families_of(self, text: str) -> List[str]:
        """The families of danger whose patterns match ``text`` (Simplified)."""
        return [name for name, patterns in self.families.items() if any(p.search(text) for p in patterns)]

    def situation(self, text: str) -> str:
        """'injury' | 'door' | 'trip' | 'general': which instructions fit (Simplified text)."""
        for kind in SITUATIONS:
            if any(c in text for c in self.situations.get(kind, [])):
                return kind
        return "general"

    def is_followup(self, text: str) -> bool:
        """A waiting safety customer asking what to do now (我该怎么办 / 现在怎么办)."""
        return any(c in text for c in self.followup)

    def emoji_intent(self, text: str) -> Optional[str]:
        """greet / feel_upset for a message of emoji only, else None."""
        if any(c.isalnum() for c in text):
            return None
        if any(e in text for e in self.upset_emoji):
            return UPSET_INTENT
        if any(e in text for e in self.greet_emoji):
            return GREET_INTENT
        return None


def is_foreign(text: str, intent: Optional[str]) -> bool:
    """Japanese, or an English sentence of 3+ words that is not small talk (and has no number)."""
    if _KANA.search(text):
        return True
    if _HAN.search(text) or _DIGITS.search(text):
        return False
    return len(_LATIN_WORD.findall(text)) >= 3 and (intent or "") not in _ENGLISH_SMALL_TALK


@lru_cache(maxsize=1)
def default_lexicon() -> SafetyLexicon:
    """The lexicon from data/safety_lexicon.yml, loaded once (for the channels)."""
    return SafetyLexicon.load()


def _demote(message: Message, name: str) -> None:
    """Take the best intent of the ranking other than ``name`` (kept for the record)."""
    ranking = [r for r in (message.get(INTENT_RANKING_KEY) or []) if r.get("name") != name]
    if ranking:
        message.set(INTENT, ranking[0], add_to_output=True)


def _force(message: Message, name: str) -> None:
    ranking = [r for r in (message.get(INTENT_RANKING_KEY) or []) if r.get("name") != name]
    forced = {"name": name, "confidence": 1.0}
    message.set(INTENT, forced, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [forced] + ranking, add_to_output=True)


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False
)
class SafetyNet(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"lexicon_path": None, "min_model_confidence": 0.8}

    def __init__(self, lexicon: SafetyLexicon, min_model_confidence: float = 0.8) -> None:
        self.lexicon = lexicon
        self.min_model_confidence = min_model_confidence

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SafetyNet":
        path: Optional[str] = config.get("lexicon_path")
        return cls(SafetyLexicon.load(Path(path) if path else SAFETY_LEXICON_FILE),
                   float(config.get("min_model_confidence", 0.8)))

    def _doubt_model(self, message: Message) -> None:
        """A low-confidence report_safety with no cue: the next intent."""
        intent = message.get(INTENT) or {}
        if intent.get("name") == SAFETY_INTENT and float(intent.get("confidence") or 0.0) < self.min_model_confidence:
            _demote(message, SAFETY_INTENT)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if not any(c.isalnum() or ord(c) > 0x2E7F for c in text):
                # Nothing left after cleaning. Truly empty (the widget's opening
                # message): a greeting; only tags or control characters: a
                # polite out-of-scope answer, not a guess.
                original = str(message.get("original_text") or text)
                name = GREET_INTENT if not original.strip() else "out_of_scope"
                blank = {"name": name, "confidence": 1.0}
                message.set(INTENT, blank, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [blank], add_to_output=True)
                continue
            cues = self.lexicon.cues(text)
            intent = (message.get(INTENT) or {}).get("name")
            if not cues:
                self._doubt_model(message)
                by_emoji = self.lexicon.emoji_intent(text)
                if by_emoji:
                    _force(message, by_emoji)
                elif is_foreign(text, intent):
                    _force(message, FOREIGN_INTENT)
                continue
            message.set("safety", {"cues": cues[:10], "situation": self.lexicon.situation(text),
                                   "families": self.lexicon.families_of(text)},
                        add_to_output=True)
            if intent != SAFETY_INTENT:
                _force(message, SAFETY_INTENT)
        return messages
