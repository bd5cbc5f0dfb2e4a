"""Actions for tests/foundation/test_local_actions.py: they report what they were given.

A package rasa_sdk scans like the real ``actions`` one, served both by
actions/server.py over HTTP and by bot/dialogue/local_actions.py in process.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import ActionExecutionRejection


class ActionProbeEcho(Action):
    """Sends back, as events and messages, everything it read of the tracker and domain."""

    def name(self) -> str:
        return "action_probe_echo"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Dict[str, Any]]:
        state = tracker.current_state()
        dispatcher.utter_message(text=f"收到: {tracker.latest_message.get('text')}", buttons=[{"title": "好", "payload": "/affirm"}])
        dispatcher.utter_message(json_message={"seen": state["latest_message"], "n": len(tracker.events)}, custom_value=1.5)
        return [
            SlotSet("echo_state", state),
            SlotSet("echo_domain_keys", sorted(domain)),
            SlotSet("echo_float", 0.1 + 0.2),
            SlotSet("echo_big", 2**60 + 1),
            ActiveLoop(None),
            FollowupAction("action_listen"),
        ]


class ActionProbeReject(Action):
    def name(self) -> str:
        return "action_probe_reject"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Dict[str, Any]]:
        raise ActionExecutionRejection(self.name(), "不适用于这一轮")


class ActionProbeCrash(Action):
    def name(self) -> str:
        return "action_probe_crash"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Dict[str, Any]]:
        raise ValueError("secret customer text 13812345678")


class ActionProbeNothing(Action):
    def name(self) -> str:
        return "action_probe_nothing"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> Optional[List[Dict[str, Any]]]:
        return None


class ActionProbeBadEvent(Action):
    def name(self) -> str:
        return "action_probe_bad_event"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Dict[str, Any]]:
        return [{"event": "slot", "value": "no name"}]  # rasa_sdk drops it; what Rasa gets must not differ


class ActionProbeMutate(Action):
    """Changes what it was given in place: Rasa's own tracker must not change with it."""

    def name(self) -> str:
        return "action_probe_mutate"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Dict[str, Any]]:
        tracker.latest_message.setdefault("entities", []).append({"entity": "order_id", "value": "forged"})
        tracker.latest_message["intent"]["name"] = "report_safety"
        for event in tracker.events:
            event.setdefault("metadata", {})["forged"] = True
            if isinstance(event.get("parse_data"), dict):
                event["parse_data"]["intent"] = {"name": "report_safety"}
        for value in tracker.slots.values():
            if isinstance(value, list):
                value.append("forged")
        return []
