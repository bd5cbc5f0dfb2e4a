"""What a customer may send the bot, checked in Kefu's channels before Rasa sees it (issue 12).

The audit found that anything typed reached Rasa as it was: ``/rate{"rating":"5"}``
ten times moved the day's satisfaction, ``/rate{"rating":"1"}`` opened a P1
ticket without any service, ``/EXTERNAL_handoff_resolved`` (meant for the
bridge only) was accepted from customers, three 10 MB messages grew one
tracker to 63 MB and one sender's flood slowed every customer down. Both Kefu
channels (bot/channels/) run every message through :meth:`CustomerGuard.screen`:

1. the text is cut to ``KEFU_MAX_MESSAGE_CHARS`` (the NLU reads even less,
   ``KEFU_NLU_MAX_CHARS``; what is cut off could only grow the tracker);
2. at most ``KEFU_MESSAGES_PER_MINUTE`` messages per sender reach the bot;
   past it the sender gets a polite line and the bot does no work, so a flood
   costs one Redis call per message. A customer in handoff still reaches the
   agent: the message goes to the ticket's transcript;
3. a message Rasa would read as an intent (``/intent{...}``) passes only if it
   is one of the buttons of the bot's latest turn (see :func:`offered`), and an
   ``/EXTERNAL_...`` intent never does.

The escalation limit is counted by the bridge (handoff/service.py), the one
place every escalation passes. If Redis is down the message limit lets
messages through, as the handoff gate does: the bot keeps answering rather
than going silent. A payload whose offer cannot be read (tracker store down)
is refused: that is the safe side, and the customer can still type.

The channel's replies are domain responses (domain/common.yml), rendered
like the gate's notices, marked ``{"from": "bot", "kind": ...}``.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Set

from redis.exceptions import RedisError

from core.responses import render
from core.text import normalize
from core import keys
from handoff.limits import Limits, WindowCounter

logger = logging.getLogger(__name__)

#: what the stock rasa-webchat widget sends (initPayload, web/webchat.js) when a conversation opens
OPENING_PAYLOADS = frozenset({"/greet"})
#: what Rasa's RegexMessageHandler would unpack as an intent: "/" then a name (spaces allowed before it)
_INTENT_SHAPED = re.compile(r"^/\s*[A-Za-z_]")
#: what is removed from a message that starts with "/" without naming an intent ("/ 退款", "//")
_LEADING_SLASHES = re.compile(r"^[\s/\uff0f\u200b-\u200f\u2060-\u206f\ufeff]+")
EXTERNAL_PREFIX = "EXTERNAL_"


@dataclass
class Screened:
    """The guard's answer: ``text`` to pass on (None: stop here) and ``notices`` to send first."""

    text: Optional[str]
    notices: List[Dict[str, Any]] = field(default_factory=list)


def same_payload(text: str) -> str:
    """A payload with whitespace normalised: stripped, inner runs as one space."""
    return " ".join(text.split())


def reads_as_payload(text: str, view: Optional[str] = None) -> bool:
    """Whether Rasa could take ``text`` as ``/intent``: as sent, and as the NLU sees it (``view``).

    The normaliser (core/text.py) folds full-width characters, drops zero-width
    ones and blanks tags, so "／rate", "\u200b/rate" or "<b>/rate" would
    become a payload after it; both forms are checked.
    """
    view = normalize(text)[0] if view is None else view
    return text.strip().startswith("/") or view.strip().startswith("/")


def intent_of(payload: str) -> str:
    """The intent a payload names: ``/rate{"rating":"5"}`` -> ``rate``."""
    return re.split(r"[{@]", payload.strip()[1:], maxsplit=1)[0].strip()


def offered(events: Iterable[Any]) -> Set[str]:
    """Payloads of the buttons in the bot's latest turn (BotUttered after the latest user message).

    A button is a promise for one turn: once the customer has written again,
    an old button is stale, and a payload nobody offered is a forgery.
    """
    found: Set[str] = set()
    for event in reversed(list(events)):
        kind = getattr(event, "type_name", "")
        if kind == "user":
            break
        if kind != "bot":
            continue
        data = getattr(event, "data", None) or {}
        for button in [*(data.get("buttons") or []), *(data.get("quick_replies") or [])]:
            if isinstance(button, dict) and isinstance(button.get("payload"), str):
                found.add(same_payload(button["payload"]))
    return found


def has_user_message(events: Iterable[Any]) -> bool:
    return any(getattr(event, "type_name", "") == "user" for event in events)


class CustomerGuard:
    """The customer-input rules both Kefu channels apply; ``gate`` gives Redis and the bridge."""

    def __init__(self, gate: Any, limits: Optional[Limits] = None) -> None:
        self.gate = gate
        # read at channel construction, i.e. when Rasa starts: a bad value stops it (SettingsError)
        self.limits = limits or Limits.from_env()
        self._messages: Optional[WindowCounter] = None

    def truncate(self, text: str) -> str:
        return text[: self.limits.max_message_chars]

    async def _within_rate(self, sender: str) -> bool:
        if self._messages is None:
            self._messages = WindowCounter(self.gate._client(), 60, self.limits.messages_per_minute)
        try:
            return await self._messages.take(keys.message_count(sender))
        except (RedisError, OSError) as exc:
            logger.warning("message limit unknown for %s (Redis: %s); passing the message on", sender, exc)
            return True

    async def _events(self, app: Any, sender: str) -> Optional[List[Any]]:
        """The conversation's events from Rasa's tracker store; None if it cannot be read."""
        agent = getattr(getattr(app, "ctx", None), "agent", None) if app is not None else None
        if agent is None or agent.tracker_store is None:
            return None
        try:
            tracker = await agent.tracker_store.retrieve(sender)
        except Exception as exc:  # the tracker store's errors are backend-specific (Redis, SQL, ...)
            logger.warning("tracker of %s unreadable for the payload check: %s", sender, exc)
            return None
        return list(tracker.events) if tracker is not None else []

    async def payload(self, app: Any, sender: str, text: str, view: str) -> Optional[str]:
        """What to pass on for a message Rasa would read as an intent; None to refuse it.

        - a button of the bot's latest turn: passed on as the button's own payload;
        - ``/greet`` as a conversation's first message (the webchat widget's opening);
        - ``/EXTERNAL_...``: refused even if offered, those come from the bridge only;
        - anything else shaped like ``/intent``: refused with a polite line
          (utter_payload_refused, "this option has expired, please type your
          question"). It is almost always an old button clicked again or a
          forgery; read as words, ``rate{"rating":"5"}`` would only get a
          confusing "I did not understand", while the refusal tells the
          customer what to do and leaves the bot's open question (and its
          buttons) as it was: nothing is written to the tracker;
        - a "/" that names no intent ("/ 退款怎么办", "//"): the slashes are
          removed and the rest is read as words, which is what the customer meant.
        """
        wanted = same_payload(text)
        if not _INTENT_SHAPED.match(wanted) and not _INTENT_SHAPED.match(view.strip()):
            words = _LEADING_SLASHES.sub("", text)
            return words if words and not reads_as_payload(words) else None
        if intent_of(wanted).upper().startswith(EXTERNAL_PREFIX):
            return None
        events = await self._events(app, sender)
        if events is None:
            # tracker store down: the bot cannot know what it offered; refusing is the safe side
            return None
        if wanted in offered(events) or (wanted in OPENING_PAYLOADS and not has_user_message(events)):
            return wanted
        return None

    async def screen(self, app: Any, sender: str, text: str) -> Screened:
        """Apply the rules to one message: what to pass to Rasa (and the gate), and what to answer."""
        text = self.truncate(text)
        view, traditional = normalize(text)
        if not await self._within_rate(sender):
            logger.warning("message from %s over KEFU_MESSAGES_PER_MINUTE; answered by the channel", sender)
            await self.gate.forward(sender, text)  # an open ticket still gets it
            return Screened(None, [reply("utter_message_rate_limited", "rate_limited", traditional)])
        if not reads_as_payload(text, view):
            return Screened(text)
        passed = await self.payload(app, sender, text, view)
        if passed is None:
            logger.warning("payload from %s refused: not offered in the bot's latest turn", sender)
            return Screened(None, [reply("utter_payload_refused", "payload_refused", traditional)])
        return Screened(passed)


def reply(utter: str, kind: str, traditional: bool) -> Dict[str, Any]:
    """The channel's own answer: a domain response, in the customer's script."""
    return {"text": render(utter, traditional=traditional), "metadata": {"from": "bot", "kind": kind}}
