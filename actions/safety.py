"""Safety first: instructions that fit the situation at once, then a human safety specialist.

No identity check. The instructions depend on what is happening (the
situation the safety net found, bot/nlu/safety.py): someone hurt (120, first
aid, 110), someone at the door (stay in, lock, do not open, 110), trouble on
a trip (share the trip, a public place, 110), or anything else (110, a
public place). 110 is said once: the queue notice that follows
(utter_handoff_queued_safety) only says a specialist is coming.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import handoff
from core.pii import mask_order
from core.safety_lexicon import default_lexicon
from core.text import to_simplified

#: the agent's one-word label per situation (core.safety_lexicon.SafetyLexicon.situation
#: reads it back from the ticket summary to repeat the right instructions)
SITUATION_LABELS = {"injury": "有人受伤", "door": "上门威胁", "trip": "行程安全", "general": "人身安全"}


def situation_of(tracker: Tracker) -> str:
    found = ((tracker.latest_message or {}).get("safety") or {}).get("situation")
    if found in SITUATION_LABELS:
        return str(found)
    return default_lexicon().situation(to_simplified(tracker.latest_message.get("text") or ""))


class ActionSafety(Action):
    def name(self) -> Text:
        return "action_safety"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        kind = situation_of(tracker)
        dispatcher.utter_message(response=f"utter_safety_{kind}")
        text = (tracker.latest_message.get("text") or "").strip().replace("\n", " ")
        parts = [f"安全事件({SITUATION_LABELS[kind]}),最高优先级"]
        plate = next((e.get("value") for e in tracker.latest_message.get("entities") or []
                      if e.get("entity") == "plate_number"), None)
        if plate:
            parts.append(f"车牌{plate}")
        if tracker.get_slot("order_id"):
            parts.append(f"订单{mask_order(tracker.get_slot('order_id'))}")
        parts.append(f"客户原话:{text[:80]}")
        return [SlotSet("current_flow", None)] + handoff("safety", ",".join(parts))
