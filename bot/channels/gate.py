"""The handoff gate both channels run before a message reaches Rasa.

credentials.yml::

    bot.channels.socketio_input.KefuSocketIOInput:      # replaces the stock `socketio:` entry (same /socket.io path)
      user_message_evt: user_uttered
      bot_message_evt: bot_uttered
      session_persistence: true
    bot.channels.rest_input.KefuRestInput:       # POST /webhooks/kefu/webhook

Before anything else both channels run the customer-input rules of
bot/channels/guard.py (length, messages per minute, only offered buttons as payloads).
On every customer message both channels look up, with one Redis GET, whether
the conversation is in handoff. If it is, the message is added to the ticket
(and pushed to the agent) through the bridge's internal API; while waiting,
the customer gets the queue position, "不用了" leaves the line, a safety
message gets the safety instructions that fit (bot/nlu/safety.py situation) and
moves the ticket to P0, and 我该怎么办 on a safety ticket gets them again. The message
always reaches Rasa too, so the tracker logs it (a paused conversation is
logged, not answered). If Redis or the bridge is down, the message simply
goes to Rasa as usual; if Rasa's own stores cannot reach Redis, it is
answered from an in-memory conversation (bot/stores/degraded.py).

Signed-in app customers (core/identity.py): a valid customer JWT (REST
``Authorization: Bearer``, socket.io ``auth={"token": ...}``) fixes the
conversation id to ``app-<sub>`` and adds the verified claims to the message
metadata; a bad token gets 401 / a refused connect. Client-supplied claims
are always removed, and anonymous callers cannot use an ``app-`` id.

The socket.io server uses a Redis client manager on the same Redis as the
bridge, so the bridge's emits (agent messages) reach the customer's socket.
"""

from __future__ import annotations

import logging
import os
import re
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple

import httpx
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from redis.exceptions import RedisError
from sanic import Sanic

from core import keys
from core.paths import data_dir
from core.redis_url import RedisSettings
from core.responses import render
from core.safety_lexicon import default_lexicon
from core.secrets import stored_secret
from core.text import conversation_script, to_simplified
from handoff.intake import split_text

logger = logging.getLogger(__name__)

#: literal ways to leave the queue, used when the NLU cannot be asked
LEAVE_WORDS = ("不用了", "不需要了", "不用人工了", "取消排队", "不用了谢谢")
#: "算了 没事了", "不等了": leaving the line in other words (either script)
LEAVE_PATTERN = re.compile(r"^\s*(?:算了|没事了|沒事了|不等了|不用等了|不排了|不要人工了)")
IntentOf = Callable[[str], Awaitable[Optional[str]]]
#: the customer's earlier messages, newest first (read only for a conversation in handoff)
EarlierTexts = Callable[[], Awaitable[List[str]]]


def redis_url_from_env() -> str:
    return os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


class HandoffGate:
    """The handoff check both channels run before passing a message to Rasa."""

    def __init__(self, redis_url: Optional[str] = None, bridge_url: Optional[str] = None,
                 internal_token: Optional[str] = None) -> None:
        self.redis_url = redis_url or redis_url_from_env()
        self.bridge_url = (bridge_url or os.environ.get("KEFU_HANDOFF_URL") or "http://127.0.0.1:5006").rstrip("/")
        self._token = internal_token
        self._redis: Any = None
        self._http: Optional[httpx.AsyncClient] = None

    def redis_client(self) -> Any:
        """The gate's async Redis client (shared with the REST session keys)."""
        return self._client()

    def _client(self) -> Any:
        if self._redis is None:
            self._redis = RedisSettings.parse(self.redis_url).async_client(
                decode_responses=True, socket_timeout=0.5, socket_connect_timeout=0.5
            )
        return self._redis

    def token(self) -> str:
        if self._token is None:
            self._token = os.environ.get("KEFU_INTERNAL_TOKEN") or stored_secret(data_dir(), "internal_token")
        return self._token

    async def state(self, sender: str) -> Optional[Tuple[str, str]]:
        """(state, ticket id) when in handoff; None otherwise or when Redis is down."""
        try:
            raw = await self._client().get(keys.conversation(sender))
        except (RedisError, OSError) as exc:
            logger.warning("handoff state unknown for %s (Redis: %s); passing the message to the bot", sender, exc)
            return None
        if not raw:
            return None
        state, _, ticket_id = str(raw).partition(":")
        return state, ticket_id

    async def _post(self, path: str, body: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=httpx.Timeout(3.0, connect=1.0))
        try:
            resp = await self._http.post(self.bridge_url + path, json=body,
                                         headers={"Authorization": f"Bearer {self.token()}"})
        except httpx.HTTPError as exc:
            logger.warning("handoff bridge unreachable (%s): %s", path, exc)
            return None
        if resp.status_code >= 400:
            logger.warning("handoff bridge refused %s: HTTP %s", path, resp.status_code)
            return None
        return dict(resp.json())

    async def _customer_message(self, sender: str, text: str) -> Optional[Dict[str, Any]]:
        """Add a customer's message to the ticket: a long one whole, as consecutive lines."""
        result = None
        for piece in split_text(text):
            result = await self._post("/internal/customer-message", {"sender": sender, "text": piece})
        return result

    async def forward(self, sender: str, text: str) -> None:
        """Add a message the bot will not see to an open ticket's transcript (nothing if not in handoff)."""
        if text and await self.state(sender):
            await self._customer_message(sender, text)

    async def _ticket_fields(self, ticket_id: str, *names: str) -> List[str]:
        try:
            values = await self._client().hmget(keys.ticket(ticket_id), list(names))
        except (RedisError, OSError):
            return ["" for _ in names]
        return [str(v or "") for v in values]

    async def _safety_followup(self, ticket_id: str, text: str) -> bool:
        """我该怎么办 while a safety (P0) ticket waits: the instructions again, not only the place."""
        if not default_lexicon().is_followup(to_simplified(text)):
            return False
        priority, reason = await self._ticket_fields(ticket_id, "priority", "reason")
        return priority == "P0" or reason == "safety"

    async def _safety_situation(self, ticket_id: str, text: str) -> str:
        """Which safety instructions: from this message, else from the ticket's summary."""
        lexicon = default_lexicon()
        kind = lexicon.situation(to_simplified(text))
        if kind == "general":
            (summary,) = await self._ticket_fields(ticket_id, "summary")
            kind = lexicon.situation(to_simplified(summary))
        return kind

    async def handle(self, sender: str, text: str, intent_of: IntentOf,
                     earlier_texts: Optional[EarlierTexts] = None) -> List[Dict[str, Any]]:
        """Run the handoff rules for one message: the notices to send the customer."""
        found = await self.state(sender)
        if not found or not text:
            return []
        state, _ticket = found
        # the conversation's script, not this message's: "不用了" reads the same in both
        earlier = await earlier_texts() if earlier_texts is not None else []
        traditional = conversation_script([text, *earlier]) == "hant"
        if state == "waiting":
            intent = await intent_of(text)
            followup = intent != "report_safety" and await self._safety_followup(_ticket, text)
            if intent == "report_safety" or followup:
                await self._customer_message(sender, text)
                if not followup:
                    await self._post("/internal/bump", {"sender": sender})
                kind = await self._safety_situation(_ticket, text)
                return [notice(f"utter_safety_{kind}", "safety_instructions", traditional),
                        notice("utter_safety_followup_wait", "queue_position", traditional)]
            if intent == "deny" or text.strip(" 。.!!~") in LEAVE_WORDS or LEAVE_PATTERN.search(text):
                await self._customer_message(sender, text)
                if await self._post("/internal/leave", {"sender": sender}) is not None:
                    return [notice("utter_handoff_left_queue", "queue_left", traditional)]
                return []
        result = await self._customer_message(sender, text)
        if state == "waiting" and result and result.get("position"):
            return [notice("utter_handoff_position", "queue_position", traditional,
                           position=result["position"], wait_minutes=result.get("wait_minutes") or 1)]
        return []


def notice(utter: str, kind: str, traditional: bool, **variables: Any) -> Dict[str, Any]:
    return {"text": render(utter, traditional=traditional, **variables), "metadata": {"from": "handoff", "kind": kind}}


async def intent_with(app: Optional[Sanic], text: str) -> Optional[str]:
    agent = getattr(getattr(app, "ctx", None), "agent", None) if app is not None else None
    if agent is not None:
        try:
            parsed = await agent.parse_message(text)
            return str(((parsed or {}).get("intent") or {}).get("name") or "") or None
        except Exception as exc:
            logger.warning("NLU unavailable for the handoff check: %s", exc)
    return None


async def earlier_user_texts(app: Optional[Sanic], sender: str) -> List[str]:
    """The customer's messages so far, newest first (payloads left out); [] when unknown."""
    agent = getattr(getattr(app, "ctx", None), "agent", None) if app is not None else None
    if agent is None:
        return []
    try:
        tracker = await agent.tracker_store.retrieve(sender)
    except Exception as exc:  # a notice in the wrong script is better than no notice
        logger.warning("could not read the conversation of %s: %s", sender, exc)
        return []
    if tracker is None:
        return []
    return [e.text for e in reversed(tracker.events)
            if isinstance(e, UserUttered) and e.text and not e.text.startswith("/")]


#: notices that answer the message completely: the bot must not answer it again
CONSUMING_NOTICES = {"queue_left"}


def consumes(notices: List[Dict[str, Any]]) -> bool:
    """Whether the gate's notices fully answer the message ("不用了" left the queue).

    Such a message is logged, not sent through the dialogue: answered again as
    a "no" it could reopen the very hand-over the customer just left.
    """
    return any((n.get("metadata") or {}).get("kind") in CONSUMING_NOTICES for n in notices)


async def log_notices(app: Optional[Sanic], sender: str, notices: List[Dict[str, Any]],
                      user_text: Optional[str] = None) -> None:
    """Add the channel's own notices to the tracker, after the customer's message.

    With ``user_text`` (a message the gate consumed) the customer's message is
    logged too, and the question the bot had open before the hand-over is
    closed, so the bot takes over with a clean state.
    """
    agent = getattr(getattr(app, "ctx", None), "agent", None) if app is not None else None
    if agent is None or not notices:
        return
    try:
        async with agent.lock_store.lock(sender):
            tracker = await agent.tracker_store.retrieve(sender)
            if tracker is None:
                return
            if user_text is not None:
                tracker.update(UserUttered(user_text, intent={"name": "deny", "confidence": 1.0}))
                tracker.update(SlotSet("pending", None))
            for item in notices:
                tracker.update(BotUttered(item["text"], metadata=item["metadata"]))
            if user_text is not None:
                # the bot's turn is over: the dialogue waits for the customer again
                tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
            await agent.tracker_store.save(tracker)
    except Exception as exc:
        logger.warning("could not log handoff notices for %s: %s", sender, exc)


