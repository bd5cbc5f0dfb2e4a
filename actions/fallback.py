"""Unclear input, three steps: rephrase, rephrase with examples, then offer a person.

"Unclear" is a message the NLU could not place (nlu_fallback) or one outside
what the bot does (out_of_scope, answered by utter_out_of_scope, which names
转人工), counted in a row. The first fallback gets a plain request to
rephrase, the second unclear message in a row examples of what to say, the
third (and after) offers a person with a button; the customer decides. An
angry customer (actions/anger.py) gets a person at once instead.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.anger import anger_due, anger_handoff
from actions.common import current_order, user_events

UNCLEAR_INTENTS = {"nlu_fallback", "out_of_scope"}
#: the unclear message in a row that offers a person
OFFER_AT = 3


def unclear_streak(tracker: Tracker) -> int:
    """How many of the latest customer messages in a row were unclear."""
    count = 0
    for event in reversed(user_events(tracker)):
        if ((event.get("parse_data") or {}).get("intent") or {}).get("name") in UNCLEAR_INTENTS:
            count += 1
        else:
            break
    return count


class ActionFallback(Action):
    def name(self) -> Text:
        return "action_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        if anger_due(tracker):
            return anger_handoff(dispatcher, tracker, current_order(tracker))
        misses = unclear_streak(tracker)
        if misses >= OFFER_AT:
            dispatcher.utter_message(response="utter_fallback_offer_human")
            return [SlotSet("fallback_streak", "3")]
        if misses == 2:
            dispatcher.utter_message(response="utter_fallback_examples")
            return [SlotSet("fallback_streak", "2")]
        dispatcher.utter_message(response="utter_fallback_rephrase")
        return [SlotSet("fallback_streak", "1")]

