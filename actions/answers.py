"""The customer's answer to the bot's own question wins, in whatever words.

The bot remembers what it just asked in the slot ``pending``; the answer
policy (bot/dialogue/answer_policy.py) sends any answer-like message to
``action_answer`` while a question is open. This module decides what the
answer means for that question:

- an offer (refund, cancel, reassign, refund of a wrong charge): yes → do it;
  no → say nothing was done and ask if anything else is needed;
- an open question (new address, photo, e-mail): the answer goes to the
  action that asked;
- "did that solve it?": yes or thanks → glad, anything else?; 没解决 → a
  person; 不用了 / goodbye → the rating question;
- "anything else?": no, thanks or goodbye → the rating question;
- the rating question: to action_rate (5, 5分, 五星, 满意 …; 1-2 → a person);
- the second factor (last four digits, surname): actions/second_factor.py.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import policy
from actions.anger import anger_due, anger_handoff
from actions.closing import ask_rating
from actions.common import current_order, handoff, money, order_vars, service, summary
from actions.second_factor import PENDING as SECOND_FACTOR
from actions.second_factor import answer_factor
from core.text import to_simplified

#: offers the customer accepts or declines, and the action that carries them out
OFFERS = {
    "refund": "action_refund_execute",
    "cancel": "action_cancel_execute",
    "reassign": "action_reassign_execute",
    "payment_refund": "action_payment_refund_execute",
}
#: intents that, as an answer to the offer, accept it ("退吧", "帮我换个司机")
OFFER_INTENTS = {
    "refund": {"request_refund"},
    "payment_refund": {"request_refund", "payment_issue"},
    "cancel": {"cancel_order"},
    "reassign": {"cancel_order", "report_delay"},
}
_WANTS_CANCEL = re.compile(r"取消|不要了|不等了|不坐了|退掉")
_NEGATED = re.compile(r"不(?:取消|退|要|用|需要|改|换|想)|先不|别|算了|再想想|再等等|等等吧|no\b", re.I)
#: open questions, and the action that reads the answer
OPEN_QUESTIONS = {
    "change_info": "action_change_info_execute",
    "damage_photo": "action_damage_claim",
    "invoice_email": "action_invoice_record",
}
_UNSOLVED = re.compile(r"没解决|没有解决|未解决|没用|不行|不满意|还是没|并没有|没处理|不对|not (?:solved|fixed)|didn'?t help", re.I)
#: a plain acknowledgement (not a "yes, there is"): to "anything else?" it means no.
#: Narrower than core.text.is_acknowledgement, which also counts 是的/对 as yes.
_ACK = re.compile(r"^(?:好的?|好吧|嗯+|恩+|哦+|噢+|ok|okay|行|可以|知道了|明白了?|收到|了解)[啦了呀哈吧的嗯~!！。.,，\s]*$", re.I)
_NO_NEED = re.compile(r"不用|不需要|算了|没事|没有了|没了|没别的|就这样|先这样|可以了|no need|nothing", re.I)


def answer_kind(intent: Optional[str], text: str) -> str:
    """'yes' | 'no' | 'thanks' | 'bye' | 'other' for an answer to a yes/no question."""
    plain = to_simplified(text or "").strip()
    if intent == "affirm":
        return "yes"
    if intent == "deny":
        return "no"
    if intent == "thank":
        return "thanks"
    if intent == "goodbye":
        return "bye"
    if _NO_NEED.search(plain):
        return "no"
    return "other"


class ActionAnswer(Action):
    """What the customer's message means as an answer to the pending question."""

    def name(self) -> Text:
        return "action_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        pending = tracker.get_slot("pending")
        angry = ((tracker.latest_message.get("sentiment") or {}).get("label") == "angry")
        if anger_due(tracker) or (angry and pending == "resolved"):
            # apology first and a person, whatever was asked (an angry answer to "solved?"
            # is a no): the request goes into the ticket
            return anger_handoff(dispatcher, tracker, current_order(tracker))
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        text = str(tracker.latest_message.get("text") or "")
        kind = answer_kind(intent, text)
        if pending in OFFERS:
            plain = to_simplified(text)
            if pending == "reassign" and intent == "cancel_order" and _WANTS_CANCEL.search(plain) \
                    and not policy.wants_reassign(plain):
                # "不等了 帮我取消": the other choice the bot offered, not the reassignment
                return [SlotSet("pending", None), SlotSet("current_flow", "cancel"), FollowupAction("action_cancel_check")]
            if pending == "cancel" and intent == "fee_dispute":
                return self._cancel_fee_why(dispatcher, tracker)
            if kind == "other" and intent in OFFER_INTENTS[pending]:
                kind = "no" if _NEGATED.search(plain) else "yes"
            return self._offer(dispatcher, pending, kind)
        if pending == SECOND_FACTOR:
            # "算了" instead of the digits or the surname: nothing is done
            return answer_factor(dispatcher, tracker, declined=kind in ("no", "bye") and not re.search(r"\d", text))
        if pending in OPEN_QUESTIONS:
            if kind in ("no", "bye") and intent in ("deny", "goodbye"):
                return self._declined(dispatcher)
            return [FollowupAction(OPEN_QUESTIONS[pending])]
        if pending == "resolved":
            return self._resolved(dispatcher, tracker, kind, text)
        if pending == "anything_else":
            if kind == "yes" and _ACK.match(to_simplified(text).strip()):
                return ask_rating(dispatcher)
            if kind == "yes":
                dispatcher.utter_message(response="utter_please_go_ahead")
                return [SlotSet("pending", None), SlotSet("current_flow", None)]
            if kind in ("no", "thanks", "bye"):
                return ask_rating(dispatcher)
            dispatcher.utter_message(response="utter_anything_else")
            return []
        if pending == "rating":
            return [FollowupAction("action_rate")]
        return self._unprompted(dispatcher, tracker, kind)

    def _unprompted(self, dispatcher: CollectingDispatcher, tracker: Tracker, kind: str) -> List[EventType]:
        """好的 / 不用了 when no question is open: anything else? / the rating question."""
        if kind == "no":
            if tracker.get_slot("verified") or tracker.get_slot("current_flow"):
                return ask_rating(dispatcher)
            dispatcher.utter_message(response="utter_goodbye")
            return []
        dispatcher.utter_message(response="utter_anything_else")
        return [SlotSet("pending", "anything_else")]

    def _offer(self, dispatcher: CollectingDispatcher, pending: str, kind: str) -> List[EventType]:
        if kind in ("yes", "thanks"):
            return [FollowupAction(OFFERS[pending])]
        if kind in ("no", "bye"):
            return self._declined(dispatcher)
        dispatcher.utter_message(response="utter_offer_reask")
        return []

    def _cancel_fee_why(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        """"为什么要收6块?" in the middle of a cancel: why, then the same question again."""
        order = current_order(tracker)
        fee = policy.cancel_fee(order, service().now()) if order is not None else None
        if order is None or not fee:
            dispatcher.utter_message(response="utter_offer_reask")
            return []
        dispatcher.utter_message(response="utter_cancel_fee_why", cancel_fee=money(fee), **order_vars(order))
        return []

    def _declined(self, dispatcher: CollectingDispatcher) -> List[EventType]:
        dispatcher.utter_message(response="utter_offer_declined")
        dispatcher.utter_message(response="utter_anything_else")
        return [SlotSet("pending", "anything_else")]

    def _resolved(self, dispatcher: CollectingDispatcher, tracker: Tracker, kind: str, text: str) -> List[EventType]:
        plain = to_simplified(text)
        # a "no" is unsolved unless it only means "no need" (不用了, 没事了); any
        # other message is unsolved when it says so (没解决, 还是没到)
        if kind == "no":
            unsolved = bool(_UNSOLVED.search(plain)) or not _NO_NEED.search(plain)
        else:
            unsolved = kind == "other" and bool(_UNSOLVED.search(plain))
        if unsolved:
            dispatcher.utter_message(response="utter_unresolved_handoff")
            flow = policy.flow_name(tracker.get_slot("current_flow"))
            return handoff("unresolved", summary(current_order(tracker), f"诉求:{flow},机器人处理后客户表示问题未解决"))
        if kind in ("yes", "thanks"):
            dispatcher.utter_message(response="utter_glad_resolved")
            dispatcher.utter_message(response="utter_anything_else")
            return [SlotSet("pending", "anything_else")]
        if kind in ("no", "bye"):
            return ask_rating(dispatcher)
        dispatcher.utter_message(response="utter_resolved_reask")
        return []

