"""Rasa component: several sentences in one message, the most urgent decides.

"你好,我的外卖到哪了?都超时一个小时了" is a greeting, a status question and a
delay complaint. DIET reads the whole message and usually names the
strongest part, but a long message with a greeting or a thank-you in front
can tip it towards small talk or a plain status question. When a message
has more than one clause and the classifier's top intent is a status
question or small talk while it also gave real weight to a problem, the
most urgent such problem decides (between two problems, the classifier's
reading stands):

    safety (the SafetyNet after this, by its lexicon)
    > damage / delay / payment
    > the other concrete requests (refund, fee, complaint, cancel, change, invoice, person)
    > status
    > small talk (greet, thank, goodbye, affirm, deny, inform, out_of_scope, ...)

The other intents stay available to the dialogue in the parse data as
``problems``: every intent of the ranking with weight, most urgent first.
A single-clause message is left as the classifier read it, and so is a
button payload and a message with an explicit request ("…气死了 给我取消":
the customer said what they want done, bot.nlu.entities.explicit_request).
"""
from __future__ import annotations

import re
from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.entities import explicit_request

#: lower is more urgent; intents not listed are small talk
TIERS: Dict[str, int] = {
    "report_safety": 0,
    "report_damage": 1, "report_delay": 1, "payment_issue": 1,
    "request_refund": 2, "fee_dispute": 2, "complain_service": 2, "cancel_order": 2,
    "change_order_info": 2, "request_invoice": 2, "request_human": 2,
    "query_order_status": 3,
}
SMALL_TALK = 4
STATUS_TIER = 3
#: clause boundaries: sentence and clause punctuation and any whitespace ("R2023… 付款成功了 订单显示失败")
_CLAUSE = re.compile(r"[。!?!?;;,,、~～…\s]+")


def tier(intent: str) -> int:
    return TIERS.get(intent, SMALL_TALK)


def clauses(text: str) -> List[str]:
    """The message's clauses with some content (2+ characters)."""
    return [part for part in (p.strip() for p in _CLAUSE.split(text)) if len(part) >= 2]


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False
)
class UrgencyResolver(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        # min_confidence: the weight DIET must give the more urgent intent;
        # problem_confidence: the weight for an intent to be listed in ``problems``
        return {"min_confidence": 0.2, "problem_confidence": 0.1}

    def __init__(self, min_confidence: float = 0.2, problem_confidence: float = 0.1) -> None:
        self.min_confidence = min_confidence
        self.problem_confidence = problem_confidence

    @classmethod
    def create(cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "UrgencyResolver":
        return cls(float(config.get("min_confidence", 0.2)), float(config.get("problem_confidence", 0.1)))

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = str(message.get(TEXT) or "")
            if text.startswith("/"):
                continue  # a button's payload says what it means
            ranking: List[Dict[str, Any]] = [r for r in (message.get(INTENT_RANKING_KEY) or [])
                                             if r.get("name") != "nlu_fallback"]
            problems = sorted(
                (r for r in ranking if tier(str(r.get("name"))) < SMALL_TALK
                 and float(r.get("confidence") or 0.0) >= self.problem_confidence),
                key=lambda r: (tier(str(r.get("name"))), -float(r.get("confidence") or 0.0)),
            )
            message.set("problems", [str(r["name"]) for r in problems], add_to_output=True)
            if len(clauses(text)) < 2 or not problems or explicit_request(text):
                continue
            top = message.get(INTENT) or {}
            best = problems[0]
            # only a status question or small talk gives way; between two problems
            # (a delay and the refund asked for) the classifier's reading stands
            if tier(str(top.get("name") or "")) >= STATUS_TIER and tier(str(best["name"])) < tier(str(top.get("name") or "")) \
                    and float(best.get("confidence") or 0.0) >= self.min_confidence:
                message.set(INTENT, dict(best), add_to_output=True)
        return messages
