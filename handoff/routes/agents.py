"""The agent console's API (/api/*): ``Authorization: Bearer <agent token>``.

Queue and chats, claims and leases, replies, transfer, resolve, hand-back,
reveal (audited), standard scripts, labels, the customer panel, internal
notes and the supervisor's figures. The live side is the WebSocket in
handoff/routes/agent_socket.py.
"""
from __future__ import annotations

import asyncio
from datetime import date
from typing import Dict, List

from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import Response

from handoff import labels, phrases
from handoff import scripts as agent_scripts
from handoff.desk import Desk
from handoff.exceptions import BadRequest, Forbidden, HandoffError, QueueUnavailable
from handoff.models import AgentMessage, Handback, Note, RenewChats, Reveal, Transfer
from handoff.queue import now_ms
from handoff.routes.common import (
    AGENT,
    Endpoint,
    Query,
    agent_of,
    ok,
    read_body,
    service_of,
    settings_of,
    ticket_id_of,
)
from handoff.stats import Day, SupervisorStats, names_of, parse_day

SUPERVISOR_SKILL = "supervisor"


async def me(request: Request) -> Response:
    agent = agent_of(request)
    await service_of(request).queue.touch_agent(agent.id, agent.skills)
    return ok(agent.public())


async def queue_list(request: Request) -> Response:
    agent = agent_of(request)
    return ok({"tickets": await service_of(request).queue_for(agent)})


async def my_chats(request: Request) -> Response:
    agent = agent_of(request)
    svc = service_of(request)
    return ok({"tickets": [await svc.ticket_view(t) for t in await svc.queue.agent_tickets(agent.id)]})


async def claim_next(request: Request) -> Response:
    agent = agent_of(request)
    return ok(await service_of(request).claim_next(agent))


async def get_ticket(request: Request) -> Response:
    agent = agent_of(request)
    svc = service_of(request)
    ticket = await svc.visible_ticket(agent, ticket_id_of(request))
    if ticket.get("state") == "active" and ticket.get("owner") == agent.id:
        await svc.queue.renew(ticket["id"], agent.id)  # its holder has it: the claim reached them
    return ok(await svc.ticket_view(ticket))


async def claim(request: Request) -> Response:
    agent = agent_of(request)
    return ok(await service_of(request).claim(agent, ticket_id_of(request)))


async def renew(request: Request) -> Response:
    agent = agent_of(request)
    tid = ticket_id_of(request)
    await service_of(request).queue.renew(tid, agent.id)
    return ok({"id": tid, "lease_seconds": settings_of(request).lease_seconds})


async def send_message(request: Request) -> Response:
    agent = agent_of(request)
    tid = ticket_id_of(request)
    body = await read_body(request, AgentMessage)
    agent_scripts.check_reply(body.text)  # a script's {placeholder} never reaches the customer (400)
    return ok(await service_of(request).agent_message(agent, tid, body.text, body.client_id), 201)


async def transfer(request: Request) -> Response:
    agent = agent_of(request)
    tid = ticket_id_of(request)
    body = await read_body(request, Transfer)
    return ok(await service_of(request).transfer(agent, tid, body.agent_id, body.skill))


async def resolve(request: Request) -> Response:
    agent = agent_of(request)
    return ok(await service_of(request).resolve(agent, ticket_id_of(request)))


async def handback(request: Request) -> Response:
    agent = agent_of(request)
    tid = ticket_id_of(request)
    body = await read_body(request, Handback)
    return ok(await service_of(request).handback(agent, tid, body.flow))


async def reveal(request: Request) -> Response:
    agent = agent_of(request)
    tid = ticket_id_of(request)
    body = await read_body(request, Reveal)
    return ok(await service_of(request).reveal(agent, tid, body.message_id, int(body.index)))


async def scripts(request: Request) -> Response:
    """Every standard script, categorised (handoff/scripts.py); ``?q=`` searches, ``?category=`` narrows."""
    agent_of(request)
    library = await asyncio.to_thread(agent_scripts.load_library)
    query = request.query_params.get("q", "")[:100]
    category = request.query_params.get("category", "")
    found = library.search(query)
    if category:
        found = [s for s in found if s.category == category]
    return ok({**library.as_json(found), "forbidden": phrases.forbidden()})


async def supervisor_stats(request: Request) -> Response:
    """Queue, agents online, SLA breaches and the day's quality figures (handoff/stats.py)."""
    agent = agent_of(request)
    if SUPERVISOR_SKILL not in agent.skills:
        raise Forbidden("需要主管权限才能查看主管视图")
    unknown = set(request.query_params.keys()) - {"date"}
    if unknown:
        raise BadRequest(f"不支持的参数: {', '.join(sorted(unknown))[:100]}")
    try:
        day = parse_day(request.query_params.get("date"), date.today())
    except ValueError as exc:
        raise BadRequest(str(exc) if "date" in str(exc) else "date 应为 YYYY-MM-DD") from None
    svc = service_of(request)
    settings = settings_of(request)
    stats = SupervisorStats(svc.queue.redis, {k: v * 1000 for k, v in settings.sla_seconds.items()},
                            settings.online_seconds * 1000)
    try:
        figures = await stats.figures(Day.of(day), now_ms(), names_of(svc.agents.all()),
                                      getattr(request.app.state, "day_figures", None))
    except (RedisError, OSError) as exc:
        raise QueueUnavailable() from exc
    return ok(figures)


# ---- for a real shift (issues 13, 15): labels, lease renewal over HTTP, the customer panel, notes ----

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
    body = await read_body(request, RenewChats)
    svc = service_of(request)
    await svc.queue.touch_agent(agent.id, agent.skills)
    held: List[str] = []
    lost: List[Dict[str, str]] = []
    for tid in body.ticket_ids:
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
    body = await read_body(request, Note)
    await svc.queue.require_owner(tid, agent.id)
    return ok(await Desk(svc.queue).add_note(agent, tid, await svc.mask(body.text)), 201)


_T = "/api/tickets/{ticket_id}"
_TEXT_QUERY = {"type": "string"}

ENDPOINTS: List[Endpoint] = [
    Endpoint("GET", "/api/me", me, "The agent behind the token", AGENT),
    Endpoint("GET", "/api/labels", get_labels, "Agent-facing names and messages, hand-back flows included", AGENT),
    Endpoint("POST", "/api/chats/renew", renew_chats, "Renew the leases of the chats the console shows; which were lost",
             AGENT, RenewChats),
    Endpoint("GET", _T + "/context", ticket_context, "Customer panel: order, earlier conversations, notes (masked)", AGENT),
    Endpoint("POST", _T + "/notes", add_note, "Add an internal note (agents only)", AGENT, Note, status=201),
    Endpoint("GET", "/api/queue", queue_list, "Waiting tickets in queue order (masked)", AGENT),
    Endpoint("POST", "/api/queue/next", claim_next, "Claim the first ticket this agent may take", AGENT),
    Endpoint("GET", "/api/chats", my_chats, "Tickets this agent holds", AGENT),
    Endpoint("GET", "/api/scripts", scripts,
             "Standard scripts (categorised, titled, with their variables) and forbidden phrases", AGENT,
             query=(Query("q", _TEXT_QUERY), Query("category", _TEXT_QUERY))),
    Endpoint("GET", "/api/supervisor/stats", supervisor_stats,
             "Supervisor figures: queue, agents online, SLA, today's quality (skill supervisor)", AGENT,
             query=(Query("date", {"type": "string", "format": "date"}),)),
    Endpoint("GET", _T, get_ticket, "One ticket with its masked transcript", AGENT),
    Endpoint("POST", _T + "/claim", claim, "Claim a ticket", AGENT),
    Endpoint("POST", _T + "/renew", renew, "Renew the lease on a held ticket", AGENT),
    Endpoint("POST", _T + "/messages", send_message, "Send a message to the customer", AGENT, AgentMessage, status=201),
    Endpoint("POST", _T + "/transfer", transfer, "Transfer to an agent or a skill", AGENT, Transfer),
    Endpoint("POST", _T + "/resolve", resolve, "Close as resolved and ask for a rating", AGENT),
    Endpoint("POST", _T + "/handback", handback, "Hand the conversation back to the bot", AGENT, Handback),
    Endpoint("POST", _T + "/reveal", reveal, "Reveal one masked value (audited)", AGENT, Reveal),
]
