"""AnswerPolicy: while the bot's question is open, the customer's answer goes to it.

Rasa's rules match on intents, but customers answer a question in any words:
"好的" and "嗯嗯可以" (affirm), "不用了" and "算了" (deny), "谢谢" (thank), a bare
"5" (inform) or "5分" (rate). With the slot ``pending`` naming the open
question, this policy predicts ``action_answer`` for every answer-like intent
(``answer_intents``, plus per-question extras such as change_order_info for
a new address) and ``action_listen`` once that answer was handled, so no
rule, memoised story or TED guess can turn an answer into a new flow, a
fallback or a hand-over. 好的 / 不用了 with no open question also go to
``action_answer`` (``unprompted_intents``). Anything else (a new problem, safety, 转人工) is
left to the other policies: a safety message always wins.

Deterministic and stateless: nothing to train, nothing persisted.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Pattern, Text

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from core.text import to_simplified


def _previous_user_intent(tracker: DialogueStateTracker) -> Optional[str]:
    """The intent of the customer's message before the latest one."""
    users = [e for e in reversed(tracker.events) if isinstance(e, UserUttered)]
    return users[1].intent.get("name") if len(users) > 1 and users[1].intent else None


def _value_before_latest_message(tracker: DialogueStateTracker, slot: str) -> Optional[Any]:
    """A slot's value before the customer's latest message (whose entities already set it again)."""
    seen_user = False
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            seen_user = True
        elif seen_user and isinstance(event, SlotSet) and event.key == slot:
            return event.value
    return None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False)
class AnswerPolicy(Policy):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # above RulePolicy (6): an answer to the open question beats an intent rule
            "priority": 7,
            "action": "action_answer",
            "slot": "pending",
            # out_of_scope too: "还要等?? 你们就是骗钱的" after "解决了吗?" is an answer to it
            "answer_intents": ["affirm", "deny", "thank", "goodbye", "inform", "rate", "nlu_fallback", "out_of_scope"],
            "extra_intents": {},
            # questions whose answer is free text (an address, a description):
            # every intent answers them except these
            "open_questions": [],
            "never_answers": ["report_safety", "request_human"],
            # actions that end the bot's turn even when another action chained
            # them (FollowupAction): the customer speaks next
            "listen_after": [],
            # patterns that make any message an answer to that question
            # ("没解决,我要的是今天到" answers "did that solve it?", "一星 太慢了" the rating)
            "answer_patterns": {},
            # per open question, intents that are a new problem rather than its answer
            "not_answers": {},
            # questions an angry message answers whatever its intent ("效率太低了!!!" to "solved?")
            "angry_answers": ["resolved", "anything_else"],
            # a second unclear message in a row ("zxcvb" after "asdfgh") goes to the
            # fallback action, which rephrases, gives examples, then offers a person
            "unclear_intents": ["out_of_scope", "nlu_fallback"],
            "unclear_action": "action_fallback",
            # answered by action_answer even when no question is open (好的 / 不用了)
            "unprompted_intents": ["affirm", "deny"],
        }

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 execution_context: ExecutionContext, featurizer: Any = None) -> None:
        super().__init__(config, model_storage, resource, execution_context, featurizer)
        self.action = str(config["action"])
        self.slot = str(config["slot"])
        self.answer_intents = set(config["answer_intents"])
        self.extra_intents: Dict[str, set] = {k: set(v) for k, v in (config.get("extra_intents") or {}).items()}
        self.unprompted_intents = set(config.get("unprompted_intents") or [])
        self.open_questions = set(config.get("open_questions") or [])
        self.never_answers = set(config.get("never_answers") or [])
        self.listen_after = set(config.get("listen_after") or [])
        self.answer_patterns: Dict[str, Pattern[str]] = {
            k: re.compile(str(v)) for k, v in (config.get("answer_patterns") or {}).items()}
        self.not_answers: Dict[str, set] = {k: set(v) for k, v in (config.get("not_answers") or {}).items()}
        self.angry_answers = set(config.get("angry_answers") or [])
        self.unclear_intents = set(config.get("unclear_intents") or [])
        self.unclear_action = config.get("unclear_action")

    def train(self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        return self._resource

    def answers(self, pending: str, intent: Optional[str], text: str = "", has_number: bool = False,
                angry: bool = False, other_order_type: bool = False) -> bool:
        """Whether a message of ``intent`` (and ``text``) answers the open question ``pending``.

        ``other_order_type``: the message names another kind of order than the
        one in hand ("另外快递也碎了" while describing a food order): a new problem.
        """
        if not intent or intent in self.never_answers:
            return False
        if angry and pending in self.angry_answers:
            return True
        pattern = self.answer_patterns.get(pending)
        if pattern is not None and pattern.search(text):
            return True
        if pending in self.open_questions:
            return not other_order_type and intent not in self.not_answers.get(pending, set())
        if has_number and intent == "inform":
            return False  # an order or phone number given now starts its own check
        return intent in self.answer_intents or intent in self.extra_intents.get(pending, set())

    def _answered_this_turn(self, tracker: DialogueStateTracker) -> bool:
        for event in reversed(tracker.events):
            if isinstance(event, UserUttered):
                return False
            if isinstance(event, ActionExecuted) and event.action_name == self.action:
                return True
        return False

    def predict_action_probabilities(self, tracker: DialogueStateTracker, domain: Domain,
                                     rule_only_data: Optional[Dict[Text, Any]] = None,
                                     **kwargs: Any) -> PolicyPrediction:
        result = self._default_predictions(domain)
        if tracker.active_loop_name:
            return self._prediction(result)
        if tracker.latest_action_name == ACTION_LISTEN_NAME:
            pending = tracker.get_slot(self.slot)
            intent = (tracker.latest_message.intent or {}).get("name") if tracker.latest_message else None
            text = str(tracker.latest_message.text or "") if tracker.latest_message else ""
            entities = (tracker.latest_message.entities or []) if tracker.latest_message else []
            has_number = any(e.get("entity") in ("order_id", "phone_number") for e in entities)
            parse = tracker.latest_message.parse_data if tracker.latest_message else {}
            angry = ((parse or {}).get("sentiment") or {}).get("label") == "angry"
            in_hand = _value_before_latest_message(tracker, "order_type")
            other_type = any(e.get("entity") == "order_type" and in_hand and e.get("value") != in_hand
                             for e in entities)
            if (pending and self.answers(str(pending), intent, to_simplified(text), has_number, angry, other_type)) or (
                    not pending and intent in self.unprompted_intents):
                result[domain.index_for_action(self.action)] = 1.0
            elif (self.unclear_action and intent == "out_of_scope"
                  and _previous_user_intent(tracker) in self.unclear_intents):
                result[domain.index_for_action(self.unclear_action)] = 1.0
        elif tracker.latest_action_name in self.listen_after or self._answered_this_turn(tracker):
            result[domain.index_for_action(ACTION_LISTEN_NAME)] = 1.0
        return self._prediction(result)
