"""Rasa component: canonical values for entities found by the spaCy rules.

SpacyEntityExtractor reports the matched text ("网约车"); the dialogue wants
the canonical value ("ride"). The mapping is data/patterns.yml's `phrases`,
the same source the EntityRuler was built from, so a word added there is
both found and mapped.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Dict, List, Optional

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES
from rasa.shared.nlu.training_data.message import Message

from core.patterns import CN_DIGITS, load_spec
from core.text import CJK, is_acknowledgement, is_byte_noise



def phrase_values() -> Dict[str, Dict[str, str]]:
    """{label: {word (lower-case): canonical value}} from data/patterns.yml."""
    table: Dict[str, Dict[str, str]] = {}
    for label, groups in (load_spec().get("phrases") or {}).items():
        for value, words in groups.items():
            for word in words:
                table.setdefault(label, {})[str(word).lower()] = str(value)
    return table


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False
)
class PatternValueMapper(GraphComponent):
    def __init__(self, table: Dict[str, Dict[str, str]]) -> None:
        self.table = table

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "PatternValueMapper":
        return cls(phrase_values())

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            entities: List[Dict[str, Any]] = message.get(ENTITIES) or []
            seen = set()
            kept = []
            for entity in entities:
                mapping = self.table.get(entity.get("entity", ""))
                if mapping and str(entity.get("value", "")).lower() in mapping:
                    entity["value"] = mapping[str(entity["value"]).lower()]
                    entity.setdefault("processors", []).append(self.__class__.__name__)
                if entity.get("entity") == "rating":
                    # "5分", "四星" (jieba keeps 四星 as one token): the digit.
                    value = str(entity.get("value", ""))
                    digit = next((c for c in value if c in "12345" or c in CN_DIGITS), None)
                    if digit and value not in (mapping or {}).values():
                        entity["value"] = CN_DIGITS.get(digit, digit)
                key = (entity.get("entity"), entity.get("value"))
                # "网约车司机" names the order type twice; keep it once.
                if key in seen and entity.get("entity") in self.table:
                    continue
                seen.add(key)
                kept.append(entity)
            message.set(ENTITIES, kept, add_to_output=True)
        return messages


#: entities that make a message "about an order" even when its wording is unclear
NUMBER_ENTITIES = ("order_id", "phone_number")
#: the lowest confidence at which the best other intent is trusted
NUMBER_INTENT_MIN_CONFIDENCE = 0.2
#: "R2023… 司机一直不来": at least this many Chinese characters beside the number
#: and this much confidence make the words, not the number, decide the intent
PROBLEM_MIN_HAN = 5
PROBLEM_BESIDE_NUMBER_CONFIDENCE = 0.25
#: never chosen from a ranking: safety comes from its cues (bot/nlu/safety.py) or
#: a confident classifier, a person from the customer's own request
NEVER_GUESSED = {"report_safety", "request_human"}
#: intents an explicit request in the same message overrides (the request is what to do)
YIELD_TO_REQUEST = {"report_delay", "query_order_status", "complain_service", "inform", "nlu_fallback",
                    "out_of_scope", "fee_dispute"}
#: intents that do not name a problem: with a number they mean `inform`
NOT_A_PROBLEM = {"out_of_scope", "foreign_language", "greet", "goodbye", "thank", "affirm", "deny", "rate"}


_LATIN_WORD = re.compile(r"[A-Za-z]+")
_BARE_SCORE = re.compile(r"\s*[1-5]\s*(?:分|星)?\s*[!！。.]*\s*")
_VOWELS = set("aeiouy")


@lru_cache(maxsize=1)
def _english_problems() -> Dict[str, List[str]]:
    return {k: [str(w).lower() for w in v] for k, v in (load_spec().get("english_problems") or {}).items()}


def english_problem(text: str) -> Optional[str]:
    """The intent an English problem word names ("refund", "late"), or None; Chinese text: None."""
    if re.search(r"[\u3400-\u9fff]", text):
        return None
    lowered = " ".join(re.findall(r"[a-z]+", text.lower()))
    for intent, words in _english_problems().items():
        if any(re.search(rf"\b{re.escape(w)}\b", lowered) for w in words):
            return intent
    return None


def _has_number(message: Message) -> bool:
    return any(e.get("entity") in NUMBER_ENTITIES for e in message.get(ENTITIES) or [])


def _without_numbers(message: Message) -> str:
    """The message's text with its order and phone numbers cut out."""
    rest = str(message.get("text") or "")
    entities = [e for e in message.get(ENTITIES) or [] if e.get("entity") in NUMBER_ENTITIES]
    for entity in sorted(entities, key=lambda e: -int(e.get("start") or 0)):
        rest = rest[: int(entity.get("start") or 0)] + rest[int(entity.get("end") or 0):]
    return rest


def _only_numbers(message: Message) -> bool:
    """Whether the message is nothing but order or phone numbers (and punctuation)."""
    return _has_number(message) and not re.search(r"[A-Za-z\u3400-\u9fff]", _without_numbers(message))


@lru_cache(maxsize=1)
def _explicit_requests() -> Dict[str, List[str]]:
    return {k: [str(w) for w in v] for k, v in (load_spec().get("explicit_requests") or {}).items()}


def explicit_request(text: str) -> Optional[str]:
    """The intent of an explicit request in ``text`` (给我取消 → cancel_order), or None."""
    for intent, phrases in _explicit_requests().items():
        if any(p in text for p in phrases):
            return intent
    return None


def is_keyboard_mash(text: str) -> bool:
    """Latin letters only, and no word a person would type (asdfgh, zxcvb, qwerty).

    A word of English (or pinyin) has vowels spread through it; a run of
    five or more letters with no vowel, or a run along one keyboard row,
    is not a word. Anything with Chinese, kana, hangul or digits is not mash.
    """
    stripped = text.strip()
    if not stripped or re.search(r"[^A-Za-z\s.,!?~]", stripped):
        return False
    words = _LATIN_WORD.findall(stripped)
    if not words:
        return False
    rows = ("qwertyuiop", "asdfghjkl", "zxcvbnm")

    def mash(word: str) -> bool:
        lowered = word.lower()
        if len(lowered) < 4:
            return False
        on_a_row = any(lowered in row or lowered[::-1] in row for row in rows)
        vowels = sum(1 for c in lowered if c in _VOWELS)
        return on_a_row or (len(lowered) >= 5 and vowels == 0)

    return all(mash(w) for w in words)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class NumberAwareFallback(GraphComponent):
    """After FallbackClassifier: a message with an order or phone number names a problem.

    "EB000000014CN 到了没" often lands just under the fallback threshold: the
    number's characters are unlike any training sentence. The customer still
    named an order, so the bot takes the best non-fallback intent when it has
    some confidence, and otherwise treats the message as `inform` (a number
    given first: the bot checks it and asks what happened). The same for a
    number read as smalltalk ("R2023… 这单结束了吗" is not a goodbye).
    """

    @classmethod
    def create(cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "NumberAwareFallback":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if str(message.get("text") or "").startswith("/"):
                continue  # a button's payload says what it means
            if is_byte_noise(str(message.get("original_text") or message.get("text") or "")):
                # bytes pasted as text: nonsense (out_of_scope), not an order detail or a thank-you
                message.set("intent", {"name": "out_of_scope", "confidence": 1.0}, add_to_output=True)
                continue
            if is_keyboard_mash(str(message.get("text") or "")):
                # "zxcvb": nonsense (out_of_scope in the intent contract); the classifier's
                # guess would start a flow
                message.set("intent", {"name": "out_of_scope", "confidence": 1.0}, add_to_output=True)
                continue
            intent = message.get("intent") or {}
            text = str(message.get("text") or "")
            if intent.get("name") == "nlu_fallback" and not CJK.search(text) and not _has_number(message):
                # "alert('x')", control-code remnants, bytes: no language to ask to rephrase in;
                # nonsense is out_of_scope in the intent contract (a polite answer, then the fallback steps)
                message.set("intent", {"name": "out_of_scope", "confidence": float(intent.get("confidence") or 0)},
                            add_to_output=True)
                continue
            if is_acknowledgement(text):
                # "嗯" / "哦" / "👌" / "好的 知道了": yes to whatever was asked (not sadness, not a flow)
                message.set("intent", {"name": "affirm", "confidence": 1.0}, add_to_output=True)
                continue
            explicit = explicit_request(text)
            if explicit and intent.get("name") in YIELD_TO_REQUEST:
                message.set("intent", {"name": explicit, "confidence": 1.0}, add_to_output=True)
                continue
            english = english_problem(_without_numbers(message)) if _has_number(message) else None
            if english is not None:
                message.set("intent", {"name": english, "confidence": 1.0}, add_to_output=True)
                continue
            if _only_numbers(message):
                # "EC000000028CN" alone names an order, not what is wrong with it
                message.set("intent", {"name": "inform", "confidence": 1.0}, add_to_output=True)
                continue
            if _BARE_SCORE.fullmatch(text) and intent.get("name") in ("nlu_fallback", "inform"):
                # "5" / "4分" alone is a score; the dialogue takes it only after its rating question
                message.set("intent", {"name": "rate", "confidence": 1.0}, add_to_output=True)
                continue
            if intent.get("name") == "inform":
                self._problem_beside_number(message)
                continue
            if intent.get("name") != "nlu_fallback" and intent.get("name") not in NOT_A_PROBLEM:
                continue
            if not _has_number(message):
                continue
            ranking = [r for r in message.get("intent_ranking") or []
                       if r.get("name") != "nlu_fallback" and r.get("name") != intent.get("name")
                       and r.get("name") not in NEVER_GUESSED]
            best = ranking[0] if ranking else None
            if (best is None or best.get("name") in NOT_A_PROBLEM
                    or float(best.get("confidence") or 0) < NUMBER_INTENT_MIN_CONFIDENCE):
                best = {"name": "inform", "confidence": float(intent.get("confidence") or 0)}
            message.set("intent", {"name": best["name"], "confidence": float(best.get("confidence") or 0)},
                        add_to_output=True)
        return messages

    @staticmethod
    def _problem_beside_number(message: Message) -> None:
        """"2023-1122-… 付款成功了但是订单显示失败??": the words name the problem, not the number."""
        # (English problem words beside a number were already taken in process())
        if not _has_number(message):
            return
        rest = _without_numbers(message)
        if sum(1 for c in rest if "\u4e00" <= c <= "\u9fff") < PROBLEM_MIN_HAN:
            return
        ranking = [r for r in message.get("intent_ranking") or []
                   if r.get("name") not in ("inform", "nlu_fallback") and r.get("name") not in NOT_A_PROBLEM
                   and r.get("name") not in NEVER_GUESSED]
        if ranking and float(ranking[0].get("confidence") or 0) >= PROBLEM_BESIDE_NUMBER_CONFIDENCE:
            message.set("intent", {"name": ranking[0]["name"], "confidence": float(ranking[0]["confidence"])},
                        add_to_output=True)
