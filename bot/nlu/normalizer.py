"""Rasa component: clean and simplify text before tokenisation.

Writes the normalised text to the message's TEXT (what tokenizers, spaCy and
DIET read) and keeps the original under ``original_text``; it also records
``script: hant`` for Traditional messages so the bot can answer in
Traditional (bot/dialogue/nlg.py). The tracker's UserUttered keeps the customer's own
text because Rasa builds it from the incoming message, not the parse.
"""
from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from core.text import normalize
from bot.nlu.zh_pipeline import configure_jieba


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False
)
class ChineseNormalizer(GraphComponent):
    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "ChineseNormalizer":
        configure_jieba()
        return cls()

    def _normalize(self, message: Message, output: bool) -> None:
        original = message.get(TEXT)
        if not isinstance(original, str):
            return
        text, traditional = normalize(original)
        message.set(TEXT, text)
        if output:
            message.set("original_text", original, add_to_output=True)
            message.set("script", "hant" if traditional else "hans", add_to_output=True)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            self._normalize(example, output=False)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._normalize(message, output=True)
        return messages
