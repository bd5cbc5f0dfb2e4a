"""TEDPolicy with an exact cache of its predictions.

TED runs a TensorFlow forward pass for every action the bot predicts (two or
three per customer message), the largest share of the Rasa server's CPU under
load (bench/RESULTS.md). With ``max_history`` set and intent-only stories, its
input is fully determined by the last ``max_history`` dialogue states
(intents, entity names, featurised slots, active loop, previous action), and
inference is deterministic, so equal states give equal predictions. Customers
walk the same few paths (greet, ask for the order, give the number, thank),
so most predictions repeat; this class remembers them in a bounded LRU keyed
by those states and skips the forward pass on a hit.

The cache is per process and dies with the loaded model (a new model is a new
policy instance), so a retrained model never sees stale predictions. It is
off for end-to-end (text-trained) models, whose input also holds the raw text.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.core.featurizers.precomputation import MessageContainerForCoreFeaturization
from rasa.core.policies.policy import PolicyPrediction, SupportedData
from rasa.core.policies.ted_policy import TEDPolicy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import TEXT

StateKey = Tuple[Any, ...]


def _fresh(prediction: PolicyPrediction) -> PolicyPrediction:
    """A copy the ensemble may change (it zeroes rejected actions in place)."""
    return PolicyPrediction(
        list(prediction.probabilities), prediction.policy_name, prediction.policy_priority,
        events=list(prediction.events), optional_events=list(prediction.optional_events),
        is_end_to_end_prediction=prediction.is_end_to_end_prediction,
        is_no_user_prediction=prediction.is_no_user_prediction,
        hide_rule_turn=prediction.hide_rule_turn, action_metadata=prediction.action_metadata,
    )


def freeze_states(states: List[Dict[Text, Dict[Text, Any]]]) -> StateKey:
    """A hashable, order-independent form of a list of dialogue states."""
    return tuple(
        tuple(sorted((kind, tuple(sorted(sub.items()))) for kind, sub in state.items()))
        for state in states
    )


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITH_END_TO_END_SUPPORT, is_trainable=True)
class CachedTEDPolicy(TEDPolicy):
    """TEDPolicy that skips TensorFlow when the same dialogue states were seen before.

    ``prediction_cache_size`` (config.yml) bounds the cache; 0 turns it off.
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**TEDPolicy.get_default_config(), "prediction_cache_size": 4096}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cache: "OrderedDict[StateKey, PolicyPrediction]" = OrderedDict()
        self.cache_hits = 0
        self.cache_misses = 0

    def _cache_key(self, tracker: DialogueStateTracker, domain: Domain,
                   rule_only_data: Optional[Dict[Text, Any]]) -> Optional[StateKey]:
        if (int(self.config.get("prediction_cache_size") or 0) <= 0 or self.model is None
                or self.only_e2e or TEXT in self.fake_features):
            return None
        ml_only = self.supported_data() == SupportedData.ML_DATA
        states = self.featurizer.prediction_states(
            [tracker], domain, use_text_for_last_user_input=False, ignore_rule_only_turns=ml_only,
            rule_only_data=rule_only_data, ignore_action_unlikely_intent=ml_only,
        )[0]
        return freeze_states(states)

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        precomputations: Optional[MessageContainerForCoreFeaturization] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        key = self._cache_key(tracker, domain, rule_only_data)
        if key is not None:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                self.cache_hits += 1
                return _fresh(cached)
        prediction = super().predict_action_probabilities(
            tracker, domain, rule_only_data=rule_only_data, precomputations=precomputations, **kwargs
        )
        if key is not None:
            self.cache_misses += 1
            self._cache[key] = _fresh(prediction)  # without diagnostics (attention tensors)
            while len(self._cache) > int(self.config["prediction_cache_size"]):
                self._cache.popitem(last=False)
        return prediction
