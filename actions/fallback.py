"""Two-stage fallback: ask to rephrase (offering a person), hand over on the second miss in a row."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import policy
from actions.common import consecutive_fallbacks, current_order, handoff, summary, user_events


class ActionFallback(Action):
    def name(self) -> Text:
        return "action_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        misses = consecutive_fallbacks(tracker)
        if misses >= policy.fallback_threshold():
            dispatcher.utter_message(response="utter_fallback_handoff")
            texts = [e.get("text") or "" for e in user_events(tracker)[-misses:]]
            return [SlotSet("fallback_streak", "2")] + handoff(
                "fallback", summary(current_order(tracker), f"机器人连续{misses}次未理解,客户原话:{' / '.join(texts)[:120]}"))
        dispatcher.utter_message(response="utter_fallback_rephrase")
        return [SlotSet("fallback_streak", "1")]
