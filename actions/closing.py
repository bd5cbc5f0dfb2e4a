"""Closing: was it solved, anything else, 1-5 rating; people on request."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import policy
from actions.common import current_order, handoff, summary


def _rating(tracker: Tracker) -> Optional[int]:
    values = [e.get("value") for e in tracker.latest_message.get("entities") or [] if e.get("entity") == "rating"]
    for value in [*values, tracker.get_slot("rating")]:
        try:
            rating = int(str(value).strip())
        except (TypeError, ValueError):
            continue
        if 1 <= rating <= 5:
            return rating
    return None


class ActionResolvedYes(Action):
    def name(self) -> Text:
        return "action_resolved_yes"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        dispatcher.utter_message(response="utter_glad_resolved")
        dispatcher.utter_message(response="utter_anything_else")
        return [SlotSet("pending", "anything_else")]


class ActionUnresolved(Action):
    def name(self) -> Text:
        return "action_unresolved"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        dispatcher.utter_message(response="utter_unresolved_handoff")
        flow = policy.flow_name(tracker.get_slot("current_flow"))
        return handoff("unresolved", summary(current_order(tracker), f"诉求:{flow},机器人处理后客户表示问题未解决"))


class ActionAnythingElseYes(Action):
    def name(self) -> Text:
        return "action_anything_else_yes"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        dispatcher.utter_message(response="utter_please_go_ahead")
        return [SlotSet("pending", None), SlotSet("current_flow", None)]


class ActionOfferDeclined(Action):
    def name(self) -> Text:
        return "action_offer_declined"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        dispatcher.utter_message(response="utter_offer_declined")
        dispatcher.utter_message(response="utter_anything_else")
        return [SlotSet("pending", "anything_else")]


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


class ActionAskRating(Action):
    def name(self) -> Text:
        return "action_ask_rating"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        dispatcher.utter_message(response="utter_ask_rating")
        return [SlotSet("pending", None), SlotSet("rating", None)]


class ActionRate(Action):
    def name(self) -> Text:
        return "action_rate"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        rating = _rating(tracker)
        if rating is None:
            dispatcher.utter_message(response="utter_rating_invalid")
            dispatcher.utter_message(response="utter_ask_rating")
            return [SlotSet("rating", None)]
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
