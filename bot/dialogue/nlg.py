"""Response generation that answers in the conversation's script.

Configured in endpoints.yml (``nlg: type: bot.dialogue.nlg.KefuNLG``). A conversation
that started in Traditional stays Traditional until the customer writes
Simplified (``core.text.conversation_script``). The whole reply is converted
after its variables are filled, so order-type words (外卖, 快递), tracking
text and button titles are converted too; OpenCC leaves digits, Latin
letters and order numbers as they are.
"""
from __future__ import annotations

import copy
from typing import Any, Dict, Iterator, Optional

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from core.text import conversation_script, to_script


def _user_texts(tracker: DialogueStateTracker) -> Iterator[str]:
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered) and event.text and not event.text.startswith("/"):
            yield event.text


def localise(response: Dict[str, Any], script: str) -> Dict[str, Any]:
    """``response`` (text and button titles) in ``script``."""
    if script != "hant":
        return response
    if isinstance(response.get("text"), str):
        response["text"] = to_script(response["text"], script)
    if response.get("buttons"):
        response["buttons"] = [
            {**b, "title": to_script(b["title"], script)} if isinstance(b.get("title"), str) else b
            for b in response["buttons"]
        ]
    return response


class KefuNLG(TemplatedNaturalLanguageGenerator):
    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, domain: Optional[Domain] = None) -> None:
        super().__init__((domain or Domain.empty()).responses)

    async def generate(
        self,
        utter_action: str,
        tracker: DialogueStateTracker,
        output_channel: str,
        **kwargs: Any,
    ) -> Optional[Dict[str, Any]]:
        filled_slots = tracker.current_slot_values()
        response = self._random_response_for(utter_action, output_channel, filled_slots)
        if response is None:
            return None
        filled = self._fill_response(copy.deepcopy(response), filled_slots, **kwargs)
        if filled is None:
            return None
        return localise(filled, conversation_script(_user_texts(tracker)))
