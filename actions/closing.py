"""Closing: thanks, the 1-5 rating; people on request; leaving a flow midway.

Answers to "was it solved?" and "anything else?" are in actions/answers.py.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import policy
from actions.common import current_order, handoff, summary
from actions.rating import rating_of


def flow_reset() -> List[EventType]:
    """Forget the flow in progress and its identity check."""
    return [
        SlotSet("current_flow", None), SlotSet("requested_slot", None), SlotSet("identity_attempts", 0),
        SlotSet("candidate_orders", None), SlotSet("identity_reask", False),
    ]


class ActionStopFlow(Action):
    """The customer changed their mind in the middle of the identity check."""

    def name(self) -> Text:
        return "action_stop_flow"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        dispatcher.utter_message(response="utter_flow_stopped")
        return [SlotSet("pending", "anything_else"), *flow_reset()]


class ActionGoodbyeInFlow(Action):
    """The customer says goodbye in the middle of the identity check: no re-ask, no failed attempt."""

    def name(self) -> Text:
        return "action_goodbye_in_flow"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        dispatcher.utter_message(response="utter_goodbye")
        return [SlotSet("pending", None), *flow_reset()]


def ask_rating(dispatcher: CollectingDispatcher) -> List[EventType]:
    """The rating question; the rating it opens is taken only by action_rate."""
    dispatcher.utter_message(response="utter_ask_rating")
    return [SlotSet("pending", "rating"), SlotSet("rating", None)]


class ActionAskRating(Action):
    def name(self) -> Text:
        return "action_ask_rating"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        return ask_rating(dispatcher)


class ActionThank(Action):
    """You're welcome, and the question it asks ("anything else?") is now open."""

    def name(self) -> Text:
        return "action_thank"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        dispatcher.utter_message(response="utter_thank")
        return [SlotSet("pending", "anything_else")]


class ActionRate(Action):
    """Records a rating, only as the answer to the rating question (one per question).

    The handoff statistics count a rating only when this action set the slot.
    """

    def name(self) -> Text:
        return "action_rate"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        if tracker.get_slot("pending") != "rating":
            dispatcher.utter_message(response="utter_rating_not_asked")
            return []
        text = str(tracker.latest_message.get("text") or "")
        entities = [str(e.get("value")) for e in tracker.latest_message.get("entities") or [] if e.get("entity") == "rating"]
        rating = rating_of(text, entities)
        if rating is None:
            intent = (tracker.latest_message.get("intent") or {}).get("name")
            if intent in ("deny", "thank", "goodbye"):
                dispatcher.utter_message(response="utter_goodbye")
                return [SlotSet("pending", None), *flow_reset()]
            dispatcher.utter_message(response="utter_rating_invalid")
            return []
        if policy.is_low_rating(rating):
            dispatcher.utter_message(response="utter_low_rating_handoff", rating=rating)
            flow = policy.flow_name(tracker.get_slot("current_flow"))
            return [SlotSet("rating", str(rating))] + handoff(
                "low_rating", summary(current_order(tracker), f"诉求:{flow},客户满意度评分{rating}分,需回访"))
        dispatcher.utter_message(response="utter_rating_thanks", rating=rating)
        return [SlotSet("rating", str(rating)), SlotSet("pending", None), SlotSet("current_flow", None)]


class ActionRequestHuman(Action):
    def name(self) -> Text:
        return "action_request_human"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        dispatcher.utter_message(response="utter_request_human_ack")
        flow = policy.flow_name(tracker.get_slot("current_flow"))
        return handoff("request_human", summary(current_order(tracker), f"客户要求人工服务,诉求:{flow}"))
