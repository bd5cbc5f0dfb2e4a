"""Agent console routes added for a real shift (issue 15, issue 13): labels, lease
renewal over HTTP, the customer panel and internal notes.

Kept out of handoff/app.py (already long); they use its request helpers.
"""
from __future__ import annotations

import asyncio
from typing import Any, Dict, List

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from handoff import labels
from handoff.app import agent_of, ok, read_json, service_of, settings_of, ticket_id_of
from handoff.desk import Desk
from handoff.exceptions import HandoffError


async def get_labels(request: Request) -> Response:
    """Every agent-facing name and message (handoff/labels.py), flows the bot has included."""
    agent_of(request)
    return ok(labels.all_labels())


async def renew_chats(request: Request) -> Response:
    """The console's lease heartbeat over HTTP, beside the WebSocket's.

    The body lists the chats the console shows; each is renewed (which also
    confirms a claim reached the agent). ``lost`` says which of them the agent
    no longer holds and why, so the console can say so instead of showing a
    chat it cannot answer.
    """
    agent = agent_of(request)
    body = await read_json(request, "RenewChats")
    svc = service_of(request)
    await svc.queue.touch_agent(agent.id, agent.skills)
    held: List[str] = []
    lost: List[Dict[str, str]] = []
    for tid in body["ticket_ids"]:
        try:
            await svc.queue.renew(tid, agent.id)
            held.append(tid)
        except HandoffError as exc:
            if exc.status == 503:
                raise
            lost.append({"id": tid, "error": exc.code, "detail": exc.detail})
    return ok({"held": held, "lost": lost, "lease_seconds": settings_of(request).lease_seconds})


async def ticket_context(request: Request) -> Response:
    """The customer panel of a held ticket: the order, earlier conversations, notes (all masked)."""
    agent = agent_of(request)
    svc = service_of(request)
    ticket = await svc.queue.require_owner(ticket_id_of(request), agent.id)
    desk = Desk(svc.queue)
    order = None
    if svc.orders is not None and ticket.get("order_ref"):
        order = await asyncio.to_thread(svc.orders.panel, ticket["order_ref"])
    return ok({
        "order": order,
        "history": await desk.history(ticket["sender"], ticket["id"]),
        "notes": await desk.notes(ticket["id"]),
    })


async def add_note(request: Request) -> Response:
    """An internal note on a held ticket: agents only, never sent to the customer."""
    agent = agent_of(request)
    svc = service_of(request)
    tid = ticket_id_of(request)
    body = await read_json(request, "Note")
    await svc.queue.require_owner(tid, agent.id)
    return ok(await Desk(svc.queue).add_note(agent, tid, await svc.mask(body["text"])), 201)


ROUTES: List[Any] = [
    Route("/api/labels", get_labels, methods=["GET"]),
    Route("/api/chats/renew", renew_chats, methods=["POST"]),
    Route("/api/tickets/{ticket_id}/context", ticket_context, methods=["GET"]),
    Route("/api/tickets/{ticket_id}/notes", add_note, methods=["POST"]),
]
