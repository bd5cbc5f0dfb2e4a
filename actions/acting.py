"""``OrderAction``: the base of every action on the verified order.

Kept apart from actions/common.py (the helpers every action uses) because it
checks the anger signal first (actions/anger.py), which builds on those helpers.
"""
from __future__ import annotations

from abc import ABCMeta, abstractmethod
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.anger import anger_due, anger_handoff
from actions.common import current_order
from orders.service import Order


class OrderAction(Action, metaclass=ABCMeta):
    """An action on the verified order. Subclasses implement :meth:`handle`.

    Before acting it checks the anger signal: the Nth angry message in the
    conversation (policy) hands over with reason ``anger``.
    """

    @abstractmethod
    def name(self) -> Text:  # pragma: no cover - abstract
        ...

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        order = current_order(tracker)
        if anger_due(tracker):
            return anger_handoff(dispatcher, tracker, order)
        if order is None:
            dispatcher.utter_message(response="utter_order_unavailable")
            return [SlotSet("pending", None), SlotSet("verified", None), SlotSet("order_id", None)]
        gated = self.before_acting(dispatcher, tracker, order)
        if gated is not None:
            return gated
        return self.handle(dispatcher, tracker, order)

    def before_acting(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order) -> Optional[List[EventType]]:
        """Events that stop :meth:`handle` from running yet (the second factor), or None."""
        return None

    @abstractmethod
    def handle(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order) -> List[EventType]:
        ...
