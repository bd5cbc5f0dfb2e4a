"""Response generation that answers Traditional with Traditional.

Configured in endpoints.yml (``nlg: type: bot.nlg.KefuNLG``). The template
is converted with OpenCC before variables are filled, so names, numbers and
order ids keep their exact characters.
"""
from __future__ import annotations

import copy
from typing import Any, Dict, Optional

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.text import convert_response


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
        response = copy.deepcopy(response)
        latest = tracker.latest_message.parse_data if tracker.latest_message else {}
        if (latest or {}).get("script") == "hant":
            response = convert_response(response)
        return self._fill_response(response, filled_slots, **kwargs)
