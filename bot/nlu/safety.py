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
construction (the lexicon itself: core/safety_lexicon.py); tests/nlu_checks/test_safety_net.py holds danger and
non-danger lines for each.

Precision the other way: DIET alone (no cue) saying report_safety with
less than ``min_model_confidence`` is a guess on a message that names no
danger ("说好今天到的"), so the next intent of its ranking is taken.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, List, Optional

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from core.paths import SAFETY_LEXICON_FILE
from core.safety_lexicon import GREET_INTENT, SafetyLexicon
from core.text import is_byte_noise

SAFETY_INTENT = "report_safety"
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


def is_foreign(text: str, intent: Optional[str]) -> bool:
    """Japanese, or an English sentence of 3+ words that is not small talk (and has no number)."""
    if _KANA.search(text):
        return True
    if _HAN.search(text) or _DIGITS.search(text):
        return False
    return len(_LATIN_WORD.findall(text)) >= 3 and (intent or "") not in _ENGLISH_SMALL_TALK


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
                elif is_foreign(text, intent) and not is_byte_noise(str(message.get("original_text") or text)):
                    _force(message, FOREIGN_INTENT)
                continue
            message.set("safety", {"cues": cues[:10], "situation": self.lexicon.situation(text),
                                   "families": self.lexicon.families_of(text)},
                        add_to_output=True)
            if intent != SAFETY_INTENT:
                _force(message, SAFETY_INTENT)
        return messages
