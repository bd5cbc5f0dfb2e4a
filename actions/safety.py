"""Safety first: instructions at once, then a human safety specialist. No identity check."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import handoff
from actions.validation import mask_order


class ActionSafety(Action):
    def name(self) -> Text:
        return "action_safety"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        dispatcher.utter_message(response="utter_safety_instructions")
        dispatcher.utter_message(response="utter_safety_handoff")
        text = (tracker.latest_message.get("text") or "").strip().replace("\n", " ")
        parts = ["安全事件,最高优先级"]
        plate = next((e.get("value") for e in tracker.latest_message.get("entities") or []
                      if e.get("entity") == "plate_number"), None)
        if plate:
            parts.append(f"车牌{plate}")
        if tracker.get_slot("order_id"):
            parts.append(f"订单{mask_order(tracker.get_slot('order_id'))}")
        parts.append(f"客户原话:{text[:80]}")
        return [SlotSet("current_flow", None)] + handoff("safety", ",".join(parts))
