"""Kefu's REST channel: ``POST /webhooks/kefu/webhook`` with the handoff, guard and identity rules.

credentials.yml: ``bot.channels.rest_input.KefuRestInput``. Rasa's stock ``rest`` channel stays off.
"""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import speedups
from bot.channels.gate import HandoffGate, consumes, earlier_user_texts, intent_with, log_notices
from bot.stores.degraded import MemoryFallback
from bot.channels.guard import CustomerGuard
from bot.channels.rest_sessions import HEADER as SESSION_HEADER
from bot.channels.rest_sessions import RestSessions
from core.identity import Customer, CustomerVerifier, IdentityError, reserved, with_customer
from handoff.exceptions import HandoffError
from handoff.intake import safe_sender
from handoff.safe_json import parse_json_body


logger = logging.getLogger(__name__)
#: largest Kefu REST webhook body: a customer message and its metadata, never megabytes
REST_MAX_BODY = 64 * 1024


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
            if customer is None:  # an anonymous sender bound to its session key needs it (bot/channels/rest_sessions.py)
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
            notices = await self.gate.handle(sender_id, text, lambda t: intent_with(request.app, t),
                                             lambda: earlier_user_texts(request.app, sender_id))
            for item in notices:
                collector.messages.append({"recipient_id": sender_id, **item})
            if consumes(notices):
                await log_notices(request.app, sender_id, notices, user_text=text)
                return response.json(collector.messages, headers=headers)
            # Redis away: answered from an in-memory conversation, never an empty reply (bot/stores/degraded.py)
            await self.fallback.handle(request.app, UserMessage(
                text, collector, sender_id, input_channel=self.name(),
                metadata=with_customer(self.get_metadata(request), customer)), on_new_message)
            await log_notices(request.app, sender_id, notices)
            return response.json(collector.messages, headers=headers)

        return bp
