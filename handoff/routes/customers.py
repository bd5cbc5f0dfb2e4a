"""The customers' side (/customer/{sender}/*): the REST poll, and the in-app chat page's hints.

- ``GET /customer/{sender}/messages``: what an agent wrote, for a REST
  customer, with the per-escalation token handed out at escalation
  (``Authorization: Bearer`` or ``?token=``);
- typing, presence and status for the in-app chat page: keyed by the
  conversation id like the socket.io session itself, no token; they tell no
  ticket id, agent or transcript, and can cause no more than a hint.
"""
from __future__ import annotations

import hashlib
from typing import List

from starlette.requests import Request
from starlette.responses import Response

from handoff.exceptions import BadRequest, Unauthorized
from handoff.models import STREAM_ID_PATTERN, Presence, Typing
from handoff.routes.common import CUSTOMER, Endpoint, Query, bearer, ok, read_body, sender_of, service_of, stream_id_ok


async def customer_messages(request: Request) -> Response:
    sender = sender_of(request)
    after = request.query_params.get("after", "0")
    if not stream_id_ok(after):
        raise BadRequest("after 格式不正确")
    token = bearer(request) or request.query_params.get("token", "")
    svc = service_of(request)
    # the hash lookup is by the token's sha256, so no secret is compared byte by byte here
    since = await svc.queue.customer_token_start(sender, hashlib.sha256(token.encode()).hexdigest()) if token else None
    if since is None:
        raise Unauthorized("会话令牌无效或已过期")
    return ok({"messages": await svc.queue.customer_messages(sender, after, since=since)})


async def customer_typing(request: Request) -> Response:
    """The in-app chat page says the customer is typing (only reaches an agent holding the chat).

    No token: the conversation id is the socket.io session's own credential,
    and a typing hint is all it can cause (throttled, only during a handoff).
    """
    sender = sender_of(request)
    body = await read_body(request, Typing)
    return ok(await service_of(request).customer_typing(sender, body.typing))


async def customer_presence(request: Request) -> Response:
    """The chat page's heartbeat while a handoff is on, and its goodbye (sendBeacon) when closed."""
    sender = sender_of(request)
    body = await read_body(request, Presence)
    return ok(await service_of(request).customer_presence(sender, body.online))


async def customer_status(request: Request) -> Response:
    """Where the in-app customer stands: state, queue position and wait (for the chat page).

    Keyed by the conversation id like the socket.io channel itself; tells no
    ticket id, agent or transcript.
    """
    sender = sender_of(request)
    svc = service_of(request)
    status = await svc.conversation(sender)
    shown = {k: status[k] for k in ("state", "position", "wait_minutes")}
    if status["state"] == "waiting" and status["position"]:
        # the banner's sentence comes from the domain, like the bubbles (one way to say the place in line)
        shown["text"] = await svc.waiting_banner(status["ticket_id"], status["position"], status["wait_minutes"])
    return ok(shown)


ENDPOINTS: List[Endpoint] = [
    Endpoint("GET", "/customer/{sender}/messages", customer_messages, "Messages for a REST customer", CUSTOMER,
             query=(Query("after", {"type": "string", "pattern": STREAM_ID_PATTERN}),)),
    Endpoint("POST", "/customer/{sender}/typing", customer_typing, "The in-app customer is typing (shown to the agent)",
             body=Typing),
    Endpoint("GET", "/customer/{sender}/status", customer_status,
             "The in-app customer's handoff state and queue position"),
    Endpoint("POST", "/customer/{sender}/presence", customer_presence,
             "The in-app customer's page is open / closed (shown to the agent)", body=Presence),
]
