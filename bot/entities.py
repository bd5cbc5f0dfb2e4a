"""Rasa component: canonical values for entities found by the spaCy rules.

SpacyEntityExtractor reports the matched text ("网约车"); the dialogue wants
the canonical value ("ride"). The mapping is data/patterns.yml's `phrases`,
the same source the EntityRuler was built from, so a word added there is
both found and mapped.
"""
from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES
from rasa.shared.nlu.training_data.message import Message

from bot.patterns import load_spec


CN_DIGITS = {"一": "1", "二": "2", "两": "2", "三": "3", "四": "4", "五": "5"}


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
#: intents that do not name a problem: with a number they mean `inform`
NOT_A_PROBLEM = {"out_of_scope", "foreign_language", "greet", "goodbye", "thank", "affirm", "deny", "rate"}


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
            intent = message.get("intent") or {}
            if intent.get("name") != "nlu_fallback" and intent.get("name") not in NOT_A_PROBLEM:
                continue
            if not any(e.get("entity") in NUMBER_ENTITIES for e in message.get(ENTITIES) or []):
                continue
            ranking = [r for r in message.get("intent_ranking") or []
                       if r.get("name") != "nlu_fallback" and r.get("name") != intent.get("name")]
            best = ranking[0] if ranking else None
            if (best is None or best.get("name") in NOT_A_PROBLEM
                    or float(best.get("confidence") or 0) < NUMBER_INTENT_MIN_CONFIDENCE):
                best = {"name": "inform", "confidence": float(intent.get("confidence") or 0)}
            message.set("intent", {"name": best["name"], "confidence": float(best.get("confidence") or 0)},
                        add_to_output=True)
        return messages
