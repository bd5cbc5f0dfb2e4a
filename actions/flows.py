"""``action_run_flow``: after the identity check, the flow the customer asked for.

Every order flow has the same shape in the rules (data/rules/flows.yml): the
problem's intent starts ``identity_form``; once the form is done and the
customer is verified, that flow's action runs. Rasa's rules cannot name an
action by a slot's value, so instead of one rule per flow the rules predict
this one action, which runs the flow named by the slot ``current_flow`` (set
from the intent, domain/common.yml) in the same call: its replies and events
are exactly the flow action's own, including a ``FollowupAction`` it chains
(a payment_failed refund → ``action_payment_check``).

The flow actions keep their own names too: other actions chain them
(``FollowupAction``), and a second factor resumes the one that asked for it.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.cancel import ActionCancelCheck
from actions.change_info import ActionChangeInfoCheck
from actions.complaints import ActionComplaintRecord
from actions.damage import ActionDamageCheck
from actions.delay import ActionDelayHandle
from actions.fees import ActionFeeExplain
from actions.forms import ActionAskProblem
from actions.invoice import ActionInvoiceCheck
from actions.orders import ActionOrderStatus
from actions.payments import ActionPaymentCheck
from actions.refunds import ActionRefundCheck

#: current_flow value → the action that handles it once the customer is verified.
#: "open": a number came before the problem: where the order stands, then what happened.
FLOW_ACTIONS: Dict[str, type] = {
    "status": ActionOrderStatus,
    "refund": ActionRefundCheck,
    "delay": ActionDelayHandle,
    "payment": ActionPaymentCheck,
    "cancel": ActionCancelCheck,
    "change_info": ActionChangeInfoCheck,
    "fee": ActionFeeExplain,
    "damage": ActionDamageCheck,
    "invoice": ActionInvoiceCheck,
    "complaint": ActionComplaintRecord,
    "open": ActionAskProblem,
}
#: no flow named (a hand-back without one): treated like a bare number
DEFAULT_FLOW = "open"


def flow_action(flow: Any) -> Action:
    """The action for a ``current_flow`` value (unknown or empty: :data:`DEFAULT_FLOW`'s)."""
    return FLOW_ACTIONS.get(str(flow or ""), FLOW_ACTIONS[DEFAULT_FLOW])()


class ActionRunFlow(Action):
    """Runs the flow of ``current_flow`` for a verified customer (see the module docstring)."""

    def name(self) -> Text:
        return "action_run_flow"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        return await flow_action(tracker.get_slot("current_flow")).run(dispatcher, tracker, domain)
