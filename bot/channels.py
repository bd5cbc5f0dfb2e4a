"""Customer channels that know about the human handoff.

credentials.yml::

    bot.channels.KefuSocketIOInput:      # replaces the stock `socketio:` entry (same /socket.io path)
      user_message_evt: user_uttered
      bot_message_evt: bot_uttered
      session_persistence: true
    bot.channels.KefuRestInput:          # POST /webhooks/kefu/webhook

Before anything else both channels run the customer-input rules of
bot/guard.py (length, messages per minute, only offered buttons as payloads).
On every customer message both channels look up, with one Redis GET, whether
the conversation is in handoff. If it is, the message is added to the ticket
(and pushed to the agent) through the bridge's internal API; while waiting,
the customer gets the queue position, "不用了" leaves the line, a safety
message gets the safety instructions that fit (bot/safety.py situation) and
moves the ticket to P0, and 我该怎么办 on a safety ticket gets them again. The message
always reaches Rasa too, so the tracker logs it (a paused conversation is
logged, not answered). If Redis or the bridge is down, the message simply
goes to Rasa as usual; if Rasa's own stores cannot reach Redis, it is
answered from an in-memory conversation (bot/degraded.py).

Signed-in app customers (bot/identity.py): a valid customer JWT (REST
``Authorization: Bearer``, socket.io ``auth={"token": ...}``) fixes the
conversation id to ``app-<sub>`` and adds the verified claims to the message
metadata; a bad token gets 401 / a refused connect. Client-supplied claims
are always removed, and anonymous callers cannot use an ``app-`` id.

The socket.io server uses a Redis client manager on the same Redis as the
bridge, so the bridge's emits (agent messages) reach the customer's socket.
"""
from __future__ import annotations

import inspect
import json
import logging
import os
import re
import uuid
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text, Tuple

import httpx
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, OutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from rasa.shared.core.events import UserUttered
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio.exceptions import ConnectionRefusedError as SocketRefused  # not the builtin of that name

from bot import speedups
from bot.degraded import MemoryFallback
from bot.text import conversation_script
from bot.guard import CustomerGuard
from bot.redis_url import RedisSettings
from bot.rest_sessions import HEADER as SESSION_HEADER
from bot.rest_sessions import RestSessions
from bot.socketio_redis import KefuRedisManager
from bot.identity import Customer, CustomerVerifier, IdentityError, reserved, with_customer
from handoff.exceptions import HandoffError
from handoff.intake import safe_sender, split_text
from handoff.safe_json import parse_json_body

logger = logging.getLogger(__name__)
#: largest Kefu REST webhook body: a customer message and its metadata, never megabytes
REST_MAX_BODY = 64 * 1024

#: literal ways to leave the queue, used when the NLU cannot be asked
LEAVE_WORDS = ("不用了", "不需要了", "不用人工了", "取消排队", "不用了谢谢")
#: "算了 没事了", "不等了": leaving the line in other words (either script)
LEAVE_PATTERN = re.compile(r"^\s*(?:算了|没事了|沒事了|不等了|不用等了|不排了|不要人工了)")
IntentOf = Callable[[str], Awaitable[Optional[str]]]
#: the customer's earlier messages, newest first (read only for a conversation in handoff)
EarlierTexts = Callable[[], Awaitable[List[str]]]


def _redis_url() -> str:
    return os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


class HandoffGate:
    """The handoff check both channels run before passing a message to Rasa."""

    def __init__(self, redis_url: Optional[str] = None, bridge_url: Optional[str] = None,
                 internal_token: Optional[str] = None) -> None:
        self.redis_url = redis_url or _redis_url()
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
            from handoff.outbox import default_path
            from handoff.settings import stored_secret

            self._token = os.environ.get("KEFU_INTERNAL_TOKEN") or stored_secret(default_path().parent, "internal_token")
        return self._token

    async def state(self, sender: str) -> Optional[Tuple[str, str]]:
        """(state, ticket id) when in handoff; None otherwise or when Redis is down."""
        from redis.exceptions import RedisError

        from handoff import keys

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
        from redis.exceptions import RedisError

        from handoff import keys

        try:
            values = await self._client().hmget(keys.ticket(ticket_id), list(names))
        except (RedisError, OSError):
            return ["" for _ in names]
        return [str(v or "") for v in values]

    async def _safety_followup(self, ticket_id: str, text: str) -> bool:
        """我该怎么办 while a safety (P0) ticket waits: the instructions again, not only the place."""
        from bot.safety import default_lexicon
        from bot.text import to_simplified

        if not default_lexicon().is_followup(to_simplified(text)):
            return False
        priority, reason = await self._ticket_fields(ticket_id, "priority", "reason")
        return priority == "P0" or reason == "safety"

    async def _safety_situation(self, ticket_id: str, text: str) -> str:
        """Which safety instructions: from this message, else from the ticket's summary."""
        from bot.safety import default_lexicon
        from bot.text import to_simplified

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
    from bot.responses import render

    return {"text": render(utter, traditional=traditional, **variables), "metadata": {"from": "handoff", "kind": kind}}


async def _intent_with(app: Optional[Sanic], text: str) -> Optional[str]:
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
        from rasa.shared.core.constants import ACTION_LISTEN_NAME
        from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered

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


def redis_client_manager(url: Optional[str] = None) -> Any:
    """A socket.io Redis manager that still delivers locally when Redis is down."""
    import socketio

    class ResilientRedisManager(KefuRedisManager):
        async def _publish(self, data: Any) -> Any:
            import pickle

            try:
                return await self.redis.publish(self.channel, pickle.dumps(data))
            except Exception as exc:
                logger.warning("socket.io via Redis failed (%s); delivering locally", exc)
                if self.write_only or not isinstance(data, dict) or data.get("method") != "emit":
                    return None
                return await socketio.AsyncManager.emit(
                    self, data["event"], data["data"], data.get("namespace") or "/",
                    room=data.get("room"), skip_sid=data.get("skip_sid"),
                )

    return ResilientRedisManager(url or _redis_url())


class KefuSocketIOInput(SocketIOInput):
    """rasa-webchat compatible socket.io at /socket.io, handoff-aware, Redis-backed."""

    @classmethod
    def name(cls) -> Text:
        return "kefu_socketio"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.gate = HandoffGate()
        self.guard = CustomerGuard(self.gate)
        self.identity = CustomerVerifier()
        self.fallback = MemoryFallback()
        self._app: Optional[Sanic] = None

    def _anonymous_session(self, sid: Text, proposed: Any) -> str:
        """The page's remembered session id, unless it is an app- id or another
        connected socket of this server holds it (a reload reconnects after its
        old socket closed); then a fresh one."""
        wanted = safe_sender(str(proposed or "")) if proposed else ""  # a `/` or 200 characters: a stable safe key
        if not wanted or reserved(wanted):
            return uuid.uuid4().hex
        assert self.sio is not None
        try:
            holders = [other for other, _ in self.sio.manager.get_participants(self.namespace or "/", wanted) if other != sid]
        except KeyError:  # no room of that name in this namespace yet
            holders = []
        if holders:
            logger.warning("socket.io session already held by a connected socket: a fresh one issued")
            return uuid.uuid4().hex
        return wanted

    async def _confirm(self, sid: Text, session_id: str) -> None:
        """Bind the socket to its conversation (room and socket.io session) and tell the page."""
        assert self.sio is not None
        if self.session_persistence:
            entered = self.sio.enter_room(sid, session_id, namespace=self.namespace)
            if inspect.isawaitable(entered):  # python-socketio >= 5.10 made it a coroutine
                await entered
            try:
                async with self.sio.session(sid, namespace=self.namespace) as session:
                    session["session_id"] = session_id
            except KeyError:  # disconnected meanwhile
                return
        await self.sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

    async def _confirmed(self, sid: Text) -> Optional[str]:
        """The session id confirmed to this anonymous socket, if any."""
        assert self.sio is not None
        try:
            session = await self.sio.get_session(sid, namespace=self.namespace)
        except KeyError:
            return None
        found = session.get("session_id")
        return str(found) if found else None

    async def _customer(self, sid: Text) -> Optional[Customer]:
        """The customer this socket proved at connect, None for an anonymous one."""
        assert self.sio is not None
        try:
            session = await self.sio.get_session(sid, namespace=self.namespace)
        except KeyError:  # already disconnected
            return None
        found = session.get("customer")
        return found if isinstance(found, Customer) else None

    def get_output_channel(self) -> Optional[OutputChannel]:
        return SocketIOOutput(self.sio, self.bot_message_evt) if self.sio is not None else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        from socketio import AsyncServer

        speedups.install()
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[], client_manager=redis_client_manager())
        bp = SocketBlueprint(sio, self.socketio_path, "kefu_socketio_webhook", __name__)
        self.sio = sio

        @bp.listener("before_server_start")
        async def remember_app(app: Sanic, _loop: Any) -> None:
            self._app = app

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: Text, environ: Dict, auth: Optional[Dict]) -> bool:
            token = auth.get("token") if isinstance(auth, dict) else None
            if token:
                try:
                    customer = self.identity.verify(str(token))
                except IdentityError as exc:
                    raise SocketRefused({"error": "unauthorized", "detail": exc.detail}) from None
                await sio.save_session(sid, {"customer": customer}, namespace=self.namespace)
                entered = sio.enter_room(sid, customer.sender, namespace=self.namespace)
                if inspect.isawaitable(entered):
                    await entered
                return True
            # anonymous: allowed unless Rasa's own jwt_key (credentials.yml) demands a token
            return not self.jwt_key

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Optional[Dict]) -> None:
            data = data or {}
            customer = await self._customer(sid)
            if customer is not None:  # the identity's conversation, whatever the page remembered
                data["session_id"] = customer.sender
            else:
                data["session_id"] = self._anonymous_session(sid, data.get("session_id"))
            await self._confirm(sid, str(data["session_id"]))

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: Text, data: Dict) -> None:
            output_channel = SocketIOOutput(sio, self.bot_message_evt)
            customer = await self._customer(sid)
            if customer is not None:
                sender_id = customer.sender
            elif self.session_persistence:
                # the conversation confirmed to this socket, not whatever the payload names
                sender_id = await self._confirmed(sid)
                if sender_id is None:  # no session_request first: confirm one now
                    sender_id = self._anonymous_session(sid, data.get("session_id"))
                    await self._confirm(sid, sender_id)
            else:
                sender_id = sid
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except ValueError:
                    metadata = {}
            metadata = with_customer(metadata, customer)  # only a verified token sets the claims
            screened = await self.guard.screen(self._app, sender_id, str(data.get("message") or ""))
            for item in screened.notices:
                await sio.emit(self.bot_message_evt, item, room=sender_id, namespace=self.namespace)
            if screened.text is None:
                return
            text = screened.text
            notices = await self.gate.handle(sender_id, text, lambda t: _intent_with(self._app, t),
                                             lambda: earlier_user_texts(self._app, sender_id))
            for item in notices:
                await sio.emit(self.bot_message_evt, item, room=sender_id, namespace=self.namespace)
            if consumes(notices):
                await log_notices(self._app, sender_id, notices, user_text=text)
                return
            await self.fallback.handle(self._app, UserMessage(text, output_channel, sender_id,
                                                              input_channel=self.name(), metadata=metadata),
                                       on_new_message)
            await log_notices(self._app, sender_id, notices)

        return bp


class KefuRestInput(RestInput):
    """REST webhook at /webhooks/kefu/webhook with the handoff rules."""

    @classmethod
    def name(cls) -> Text:
        return "kefu"

    def __init__(self) -> None:
        self.gate = HandoffGate()
        self.guard = CustomerGuard(self.gate)
        self.identity = CustomerVerifier()
        self.fallback = MemoryFallback()
        self.sessions = RestSessions(self.gate.redis_client, self.identity.secret)

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        speedups.install()
        bp = Blueprint("kefu_rest_webhook", __name__)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            customer: Optional[Customer] = None
            if "authorization" in request.headers:
                try:
                    customer = self.identity.from_authorization(request.headers["authorization"])
                except IdentityError as exc:
                    return response.json({"error": "unauthorized", "detail": exc.detail}, status=401)
            try:  # malformed, huge or deeply nested JSON, a lone surrogate: a 4xx naming no value, not a 500
                parsed = parse_json_body(request.body or b"", REST_MAX_BODY)
            except HandoffError as exc:
                return response.json({"error": exc.code, "detail": exc.detail}, status=exc.status)
            body = parsed if isinstance(parsed, dict) else {}
            # a signed-in customer's conversation comes from the token; the body's sender is ignored
            # an id with "/", a control character or over 128 characters gets its stable safe key
            # (handoff/intake.py): the bridge could not queue its escalation under the raw id
            sender_id = customer.sender if customer else safe_sender(str(body.get("sender") or "default"))
            if customer is None and reserved(sender_id):
                return response.json({"error": "unauthorized",
                                      "detail": "sender: app- ids need a customer token"}, status=401)
            issued: Optional[str] = None
            if customer is None:  # an anonymous sender bound to its session key needs it (bot/rest_sessions.py)
                allowed, issued = await self.sessions.check(sender_id, request.headers.get(SESSION_HEADER))
                if not allowed:
                    return response.json({"error": "unauthorized",
                                          "detail": f"{SESSION_HEADER}: 该会话需要它的会话密钥"}, status=401)
            headers = {SESSION_HEADER: issued} if issued else None
            collector = CollectingOutputChannel()
            screened = await self.guard.screen(request.app, sender_id, str(body.get("message") or ""))
            collector.messages.extend({"recipient_id": sender_id, **item} for item in screened.notices)
            if screened.text is None:
                return response.json(collector.messages, headers=headers)
            text = screened.text
            notices = await self.gate.handle(sender_id, text, lambda t: _intent_with(request.app, t),
                                             lambda: earlier_user_texts(request.app, sender_id))
            for item in notices:
                collector.messages.append({"recipient_id": sender_id, **item})
            if consumes(notices):
                await log_notices(request.app, sender_id, notices, user_text=text)
                return response.json(collector.messages, headers=headers)
            # Redis away: answered from an in-memory conversation, never an empty reply (bot/degraded.py)
            await self.fallback.handle(request.app, UserMessage(
                text, collector, sender_id, input_channel=self.name(),
                metadata=with_customer(self.get_metadata(request), customer)), on_new_message)
            await log_notices(request.app, sender_id, notices)
            return response.json(collector.messages, headers=headers)

        return bp
