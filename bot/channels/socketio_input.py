"""The chat page's socket.io channel: rasa-webchat's protocol, handoff-aware, on a Redis manager.

credentials.yml: ``bot.channels.socketio_input.KefuSocketIOInput`` (replaces the stock ``socketio:``).
"""
from __future__ import annotations

import inspect
import json
import logging
import pickle
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncManager, AsyncServer
from socketio.exceptions import ConnectionRefusedError as SocketRefused  # not the builtin of that name

from bot.channels import speedups
from bot.channels.gate import HandoffGate, consumes, earlier_user_texts, intent_with, log_notices, redis_url_from_env
from bot.stores.degraded import MemoryFallback
from bot.channels.guard import CustomerGuard
from core.socketio_redis import KefuRedisManager
from core.identity import Customer, CustomerVerifier, IdentityError, reserved, with_customer
from handoff.intake import safe_sender


logger = logging.getLogger(__name__)


class ResilientRedisManager(KefuRedisManager):
    """The Redis manager, delivering an emit to this server's own sockets when Redis is down."""

    async def _publish(self, data: Any) -> Any:
        try:
            return await self.redis.publish(self.channel, pickle.dumps(data))
        except Exception as exc:
            logger.warning("socket.io via Redis failed (%s); delivering locally", exc)
            if self.write_only or not isinstance(data, dict) or data.get("method") != "emit":
                return None
            return await AsyncManager.emit(
                self, data["event"], data["data"], data.get("namespace") or "/",
                room=data.get("room"), skip_sid=data.get("skip_sid"),
            )


def redis_client_manager(url: Optional[str] = None) -> Any:
    """A socket.io Redis manager that still delivers locally when Redis is down."""
    return ResilientRedisManager(url or redis_url_from_env())


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
            notices = await self.gate.handle(sender_id, text, lambda t: intent_with(self._app, t),
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


