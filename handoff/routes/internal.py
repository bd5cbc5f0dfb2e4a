"""The bot side's API (/internal/*): channels and actions, with the shared internal token.

``Authorization: Bearer <KEFU_INTERNAL_TOKEN>`` (or ``X-Kefu-Internal-Token``).
An escalation is made safe before it is validated (handoff/intake.py): a
long transcript line or an unusual sender id is fixed, not refused, because
a refused escalation was a lost one.
"""
from __future__ import annotations

from typing import List

from starlette.requests import Request
from starlette.responses import Response

from handoff import intake
from handoff.models import CustomerMessage, Escalate, SenderOnly
from handoff.routes.common import INTERNAL, Endpoint, ok, read_body, require_internal, sender_of, service_of


async def internal_escalate(request: Request) -> Response:
    require_internal(request)
    # a long message or an unusual sender id is made safe, not refused: a refused escalation was lost
    body = await read_body(request, Escalate, prepare=intake.escalation)
    # the fields as sent: the service tells an absent priority or escalation id from a default
    return ok(await service_of(request).escalate(body.dict(exclude_unset=True)), 201)


async def internal_customer_message(request: Request) -> Response:
    require_internal(request)
    body = await read_body(request, CustomerMessage)
    return ok(await service_of(request).customer_message(body.sender, body.text))


async def internal_leave(request: Request) -> Response:
    require_internal(request)
    body = await read_body(request, SenderOnly)
    return ok(await service_of(request).leave(body.sender))


async def internal_bump(request: Request) -> Response:
    require_internal(request)
    body = await read_body(request, SenderOnly)
    return ok(await service_of(request).bump_safety(body.sender))


async def internal_conversation(request: Request) -> Response:
    require_internal(request)
    return ok(await service_of(request).conversation(sender_of(request)))


ENDPOINTS: List[Endpoint] = [
    Endpoint("POST", "/internal/escalate", internal_escalate, "Put a conversation in the queue", INTERNAL, Escalate,
             status=201),
    Endpoint("POST", "/internal/customer-message", internal_customer_message, "A customer message during handoff",
             INTERNAL, CustomerMessage),
    Endpoint("POST", "/internal/leave", internal_leave, "The customer leaves the queue", INTERNAL, SenderOnly),
    Endpoint("POST", "/internal/bump", internal_bump, "Raise a waiting conversation to P0 (safety)", INTERNAL, SenderOnly),
    Endpoint("GET", "/internal/conversations/{sender}", internal_conversation, "Handoff state, position and wait",
             INTERNAL),
]
