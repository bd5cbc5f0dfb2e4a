"""The bridge's HTTP edge: a thin Starlette app over HandoffService.

Three audiences, three credentials:
- agents: ``Authorization: Bearer <agent token>`` (stored as sha256) on /api/*
  and ``?token=`` on the /ws/agent WebSocket;
- the bot side (channels, actions): the shared internal token on /internal/*;
- REST customers: the per-conversation token handed out at escalation, on
  ``GET /customer/{sender}/messages``.

Every error is ``{"error": code, "detail": message}`` with a 4xx status
(503 when Redis is unreachable). Request bodies are limited in size and
validated against the same JSON schemas the OpenAPI document publishes.
"""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import re
from pathlib import Path
from typing import Any, AsyncIterator, Dict, List, Optional

import jsonschema
from redis.exceptions import RedisError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket

from handoff import scripts as agent_scripts
from handoff import intake
from handoff.agents import Agent, AgentDirectory
from handoff.dev_login import customer_token_route
from handoff.exceptions import (
    BadRequest,
    Forbidden,
    HandoffError,
    PayloadTooLarge,
    QueueUnavailable,
    Unauthorized,
)
from handoff.http_safety import SecurityHeaders, http_error, internal_error, security_headers
from handoff import phrases
from handoff.orders import OrdersReader, default_path as orders_path
from handoff.outbox import Outbox
from handoff.privacy import Masker
from handoff.queue import HandoffQueue
from handoff.relay import RasaClient, Relay
from handoff.safe_json import parse_json_body, schema_error_detail
from handoff.service import REASONS, HandoffService
from handoff.settings import Settings
from handoff.stats import DayFiguresCache

logger = logging.getLogger(__name__)

SENDER_PATTERN = r"^[^\x00-\x1f\x7f/]{1,128}$"
TICKET_PATTERN = r"^[0-9a-f]{16}$"
STREAM_ID_PATTERN = r"^(0|[0-9]{1,20}-[0-9]{1,20})$"
_TEXT = {"type": "string", "minLength": 1, "maxLength": 4000}
_SENDER = {"type": "string", "pattern": SENDER_PATTERN}

SCHEMAS: Dict[str, Dict[str, Any]] = {
    "AgentMessage": {
        "type": "object", "required": ["text"], "additionalProperties": False,
        "properties": {
            "text": _TEXT,
            # the console's idempotency key: a retried send is not sent twice
            "client_id": {"type": "string", "pattern": r"^[A-Za-z0-9_\-]{8,64}$"},
        },
    },
    "RenewChats": {
        "type": "object", "required": ["ticket_ids"], "additionalProperties": False,
        "properties": {"ticket_ids": {"type": "array", "maxItems": 50, "items": {"type": "string", "pattern": TICKET_PATTERN}}},
    },
    "Note": {
        "type": "object", "required": ["text"], "additionalProperties": False,
        "properties": {"text": {"type": "string", "minLength": 1, "maxLength": 2000}},
    },
    "Transfer": {
        "type": "object", "additionalProperties": False,
        "properties": {
            "agent_id": {"type": "string", "minLength": 1, "maxLength": 64},
            "skill": {"type": "string", "minLength": 1, "maxLength": 64},
        },
    },
    "Handback": {
        "type": "object", "required": ["flow"], "additionalProperties": False,
        "properties": {"flow": {"type": "string", "pattern": r"^[a-z_][a-z0-9_]{0,63}$"}},
    },
    "Reveal": {
        "type": "object", "required": ["message_id", "index"], "additionalProperties": False,
        "properties": {
            "message_id": {"type": "string", "pattern": STREAM_ID_PATTERN},
            "index": {"type": "integer", "minimum": 0, "maximum": 100},
        },
    },
    "Escalate": {
        "type": "object", "required": ["sender", "reason"], "additionalProperties": False,
        "properties": {
            "sender": _SENDER,
            "channel": {"type": "string", "maxLength": 64},
            "reason": {"type": "string", "enum": list(REASONS)},
            "priority": {"type": "string", "enum": ["P0", "P1", "P2"]},
            "summary": {"type": "string", "maxLength": 500},
            "intents": {"type": "array", "maxItems": 200, "items": {"type": "string", "maxLength": 64}},
            "order_id": {"type": "string", "maxLength": 64},
            "order_type": {"type": "string", "maxLength": 32},
            "sentiment": {"type": "string", "maxLength": 32},
            "escalation_id": {"type": "string", "pattern": r"^[A-Za-z0-9_\-]{8,64}$"},
            "traditional": {"type": "boolean"},
            "delayed": {"type": "boolean"},
            "transcript": {
                "type": "array", "maxItems": 200,
                "items": {
                    "type": "object", "required": ["role", "text"],
                    "properties": {
                        "role": {"type": "string", "enum": ["user", "bot", "agent"]},
                        "text": {"type": "string", "maxLength": 4000},
                        "ts": {"type": "integer", "minimum": 0},
                    },
                },
            },
        },
    },
    "CustomerMessage": {
        "type": "object", "required": ["sender", "text"], "additionalProperties": False,
        "properties": {"sender": _SENDER, "text": _TEXT},
    },
    "Typing": {
        "type": "object", "required": ["typing"], "additionalProperties": False,
        "properties": {"typing": {"type": "boolean"}},
    },
    "Presence": {
        "type": "object", "required": ["online"], "additionalProperties": False,
        "properties": {"online": {"type": "boolean"}},
    },
    "SenderOnly": {
        "type": "object", "required": ["sender"], "additionalProperties": False,
        "properties": {"sender": _SENDER},
    },
}
_VALIDATORS = {name: jsonschema.Draft7Validator(schema) for name, schema in SCHEMAS.items()}


# ---- request helpers -------------------------------------------------------

def service_of(conn: HTTPConnection) -> HandoffService:
    return conn.app.state.service  # type: ignore[no-any-return]


def settings_of(conn: HTTPConnection) -> Settings:
    return conn.app.state.settings  # type: ignore[no-any-return]


async def read_json(request: Request, schema: str,
                    prepare: Optional[Callable[[Any], Any]] = None) -> Dict[str, Any]:
    """The body, validated against SCHEMAS[schema]; ``prepare`` may first make it safe (handoff/intake.py)."""
    limit = settings_of(request).max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise PayloadTooLarge(f"请求内容不能超过 {limit} 字节")
        except ValueError:
            raise BadRequest("Content-Length 无效") from None
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise PayloadTooLarge(f"请求内容不能超过 {limit} 字节")
    data = parse_json_body(bytes(body), limit)  # 400 for nesting, lone surrogates, bad JSON
    if prepare is not None:
        data = prepare(data)
    errors = sorted(_VALIDATORS[schema].iter_errors(data), key=lambda e: [str(p) for p in e.path])
    if errors:
        raise BadRequest(schema_error_detail(errors[0])[:300])  # names the field, never echoes the value
    return dict(data)


def _path_param(request: Request, name: str, pattern: str) -> str:
    value = str(request.path_params.get(name, ""))
    if not re.fullmatch(pattern.strip("^$"), value):
        raise BadRequest(f"{name} 格式不正确")
    return value


def ticket_id_of(request: Request) -> str:
    return _path_param(request, "ticket_id", TICKET_PATTERN)


def _bearer(conn: HTTPConnection) -> str:
    header = conn.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return ""


def agent_of(conn: HTTPConnection, token: Optional[str] = None) -> Agent:
    agent = service_of(conn).agents.by_token(token if token is not None else _bearer(conn))
    if agent is None:
        raise Unauthorized("坐席令牌无效或已过期")
    return agent


def require_internal(conn: HTTPConnection) -> None:
    expected = settings_of(conn).internal_token
    given = _bearer(conn) or conn.headers.get("x-kefu-internal-token", "")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthorized("内部接口令牌无效")


def ok(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status)


# ---- agent API ------------------------------------------------------------------

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
    body = await read_json(request, "AgentMessage")
    agent_scripts.check_reply(body["text"])  # a script's {placeholder} never reaches the customer (400)
    return ok(await service_of(request).agent_message(agent, tid, body["text"], body.get("client_id", "")), 201)


async def transfer(request: Request) -> Response:
    agent = agent_of(request)
    tid = ticket_id_of(request)
    body = await read_json(request, "Transfer")
    return ok(await service_of(request).transfer(agent, tid, body.get("agent_id", ""), body.get("skill", "")))


async def resolve(request: Request) -> Response:
    agent = agent_of(request)
    return ok(await service_of(request).resolve(agent, ticket_id_of(request)))


async def handback(request: Request) -> Response:
    agent = agent_of(request)
    tid = ticket_id_of(request)
    body = await read_json(request, "Handback")
    return ok(await service_of(request).handback(agent, tid, body["flow"]))


async def reveal(request: Request) -> Response:
    agent = agent_of(request)
    tid = ticket_id_of(request)
    body = await read_json(request, "Reveal")
    return ok(await service_of(request).reveal(agent, tid, body["message_id"], int(body["index"])))


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


SUPERVISOR_SKILL = "supervisor"


async def supervisor_stats(request: Request) -> Response:
    """Queue, agents online, SLA breaches and the day's quality figures (handoff/stats.py)."""
    from datetime import date

    from handoff.queue import now_ms
    from handoff.stats import Day, SupervisorStats, names_of, parse_day

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


# ---- internal API (bot side) ------------------------------------------------------

async def internal_escalate(request: Request) -> Response:
    require_internal(request)
    # a long message or an unusual sender id is made safe, not refused: a refused escalation was lost
    body = await read_json(request, "Escalate", prepare=intake.escalation)
    return ok(await service_of(request).escalate(body), 201)


async def internal_customer_message(request: Request) -> Response:
    require_internal(request)
    body = await read_json(request, "CustomerMessage")
    return ok(await service_of(request).customer_message(body["sender"], body["text"]))


async def internal_leave(request: Request) -> Response:
    require_internal(request)
    body = await read_json(request, "SenderOnly")
    return ok(await service_of(request).leave(body["sender"]))


async def internal_bump(request: Request) -> Response:
    require_internal(request)
    body = await read_json(request, "SenderOnly")
    return ok(await service_of(request).bump_safety(body["sender"]))


async def internal_conversation(request: Request) -> Response:
    require_internal(request)
    sender = _path_param(request, "sender", SENDER_PATTERN)
    return ok(await service_of(request).conversation(sender))


# ---- customers (REST poll) -----------------------------------------------------------

async def customer_messages(request: Request) -> Response:
    sender = _path_param(request, "sender", SENDER_PATTERN)
    after = request.query_params.get("after", "0")
    if not re.fullmatch(STREAM_ID_PATTERN.strip("^$"), after):
        raise BadRequest("after 格式不正确")
    token = _bearer(request) or request.query_params.get("token", "")
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
    sender = _path_param(request, "sender", SENDER_PATTERN)
    body = await read_json(request, "Typing")
    return ok(await service_of(request).customer_typing(sender, bool(body["typing"])))


async def customer_presence(request: Request) -> Response:
    """The chat page's heartbeat while a handoff is on, and its goodbye (sendBeacon) when closed."""
    sender = _path_param(request, "sender", SENDER_PATTERN)
    body = await read_json(request, "Presence")
    return ok(await service_of(request).customer_presence(sender, bool(body["online"])))


async def customer_status(request: Request) -> Response:
    """Where the in-app customer stands: state, queue position and wait (for the chat page).

    Keyed by the conversation id like the socket.io channel itself; tells no
    ticket id, agent or transcript.
    """
    sender = _path_param(request, "sender", SENDER_PATTERN)
    svc = service_of(request)
    status = await svc.conversation(sender)
    shown = {k: status[k] for k in ("state", "position", "wait_minutes")}
    if status["state"] == "waiting" and status["position"]:
        # the banner's sentence comes from the domain, like the bubbles (one way to say the place in line)
        shown["text"] = await svc.waiting_banner(status["ticket_id"], status["position"], status["wait_minutes"])
    return ok(shown)


# ---- misc ---------------------------------------------------------------------------------

async def health(request: Request) -> Response:
    """200 once Redis answers and the PII masker is loaded (so nothing waits on it)."""
    svc = service_of(request)
    try:
        await svc.queue.ping()
    except QueueUnavailable:
        return ok({"status": "degraded", "redis": "unreachable"}, 503)
    if not svc.masker.ready:
        return ok({"status": "starting", "redis": "ok"}, 503)
    return ok({"status": "ok", "redis": "ok"})


async def openapi(request: Request) -> Response:
    return ok(openapi_document())


async def page(request: Request) -> Response:
    web = settings_of(request).web_dir
    path = request.url.path
    name = "console.html" if path.startswith("/console") else "supervisor.html" if path.startswith("/supervisor") else "chat.html"
    if web is None or not (web / name).exists():
        raise HTTPException(404)
    return FileResponse(web / name)


async def web_config(request: Request) -> Response:
    rasa = settings_of(request).rasa_url
    return PlainTextResponse(
        "window.KEFU = window.KEFU || {}; window.KEFU.socketUrl = window.KEFU.socketUrl || " + json.dumps(rasa) + ";\n",
        media_type="application/javascript",
    )


# ---- agent WebSocket ----------------------------------------------------------------------------

def _event_for(agent_id: str, event_id: str, fields: Dict[str, str]) -> Optional[Dict[str, Any]]:
    kind = fields.get("type", "")
    out: Dict[str, Any] = {"id": event_id, "type": kind, "ticket_id": fields.get("ticket_id", "")}
    if kind == "queue":
        out["reason"] = fields.get("data", "")
        return out
    if fields.get("owner") != agent_id:
        return None
    if kind == "message":
        out["message"] = json.loads(fields.get("data") or "{}")
    elif kind == "typing":
        out["typing"] = fields.get("data") == "1"
    elif kind == "presence":
        out["online"] = fields.get("data") == "1"
    else:
        out["reason"] = fields.get("data", "")
    return out


async def agent_socket(websocket: WebSocket) -> None:
    svc = service_of(websocket)
    settings = settings_of(websocket)
    agent = svc.agents.by_token(websocket.query_params.get("token", "") or _bearer(websocket))
    if agent is None:
        await websocket.close(code=4401)
        return
    last_id = websocket.query_params.get("last_id", "") or "0"
    if not re.fullmatch(STREAM_ID_PATTERN.strip("^$"), last_id):
        await websocket.close(code=4400)
        return
    await websocket.accept()
    try:
        if last_id == "0":
            last_id = await svc.queue.last_event_id()
        await svc.queue.touch_agent(agent.id, agent.skills)
        await websocket.send_json({"type": "hello", "id": last_id, "agent": agent.public()})
    except QueueUnavailable:
        await websocket.close(code=1013)
        return

    closed = asyncio.Event()

    async def pump() -> None:
        cursor = last_id
        renew_every = max(1.0, settings.lease_seconds / 3)
        next_renew = 0.0
        loop = asyncio.get_running_loop()
        while not closed.is_set():
            if loop.time() >= next_renew:
                await svc.queue.touch_agent(agent.id, agent.skills)
                await svc.queue.renew_all(agent.id)
                next_renew = loop.time() + renew_every
            try:
                rows = await svc.queue.events(cursor, block_ms=int(min(renew_every, 1.0) * 1000))
            except QueueUnavailable:
                await asyncio.sleep(1.0)
                continue
            for event_id, fields in rows:
                cursor = event_id
                event = _event_for(agent.id, event_id, fields)
                if event is not None:
                    await websocket.send_json(event)

    async def listen() -> None:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return

    tasks = [asyncio.create_task(pump()), asyncio.create_task(listen())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        closed.set()  # also stops the pump if redis-py swallows the cancellation
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks, timeout=3)
        for task in tasks:
            if task.done() and not task.cancelled():
                task.exception()  # retrieved: a dropped socket is expected here
        with contextlib.suppress(Exception):
            await websocket.close()


# ---- errors ---------------------------------------------------------------------------------

def _error(code: str, detail: str, status: int) -> JSONResponse:
    return JSONResponse({"error": code, "detail": detail}, status_code=status)


async def handoff_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HandoffError)
    return _error(exc.code, exc.detail, exc.status)


async def redis_error(request: Request, exc: Exception) -> Response:
    """A Redis failure outside the queue's own calls (e.g. mid-failover): 503 to retry, not a 500."""
    logger.warning("Redis unavailable during %s %s: %s", request.method, request.url.path, type(exc).__name__)
    unavailable = QueueUnavailable()
    return _error(unavailable.code, unavailable.detail, unavailable.status)


# ---- OpenAPI ---------------------------------------------------------------------------------

_ERROR_SCHEMA = {
    "type": "object", "required": ["error", "detail"],
    "properties": {"error": {"type": "string"}, "detail": {"type": "string"}},
}
_TICKET_PARAM = {"name": "ticket_id", "in": "path", "required": True, "schema": {"type": "string", "pattern": TICKET_PATTERN}}
_SENDER_PARAM = {"name": "sender", "in": "path", "required": True, "schema": {"type": "string", "pattern": SENDER_PATTERN}}


def _op(summary: str, security: Optional[str], body: Optional[str] = None, params: Optional[List[Dict[str, Any]]] = None,
        ok_status: str = "200") -> Dict[str, Any]:
    errors = {code: {"description": text, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
              for code, text in (("400", "bad input"), ("401", "bad token"), ("403", "not yours"), ("404", "unknown id"),
                                 ("409", "conflict"), ("413", "body too large"), ("503", "queue unavailable"))}
    op: Dict[str, Any] = {
        "summary": summary,
        "responses": {ok_status: {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}, **errors},
    }
    if security:
        op["security"] = [{security: []}]
    if params:
        op["parameters"] = params
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}}}
    return op


def openapi_document() -> Dict[str, Any]:
    agent, internal = "agentToken", "internalToken"
    tp = [_TICKET_PARAM]
    paths: Dict[str, Any] = {
        "/health": {"get": _op("Liveness and Redis reachability", None)},
        "/api/me": {"get": _op("The agent behind the token", agent)},
        "/api/queue": {"get": _op("Waiting tickets in queue order (masked)", agent)},
        "/api/queue/next": {"post": _op("Claim the first ticket this agent may take", agent)},
        "/api/chats": {"get": _op("Tickets this agent holds", agent)},
        "/api/scripts": {"get": _op("Standard scripts (categorised, titled, with their variables) and forbidden phrases", agent,
                                    params=[{"name": n, "in": "query", "required": False, "schema": {"type": "string"}}
                                            for n in ("q", "category")])},
        "/api/supervisor/stats": {"get": _op("Supervisor figures: queue, agents online, SLA, today's quality (skill supervisor)",
                                             agent, params=[{"name": "date", "in": "query", "required": False,
                                                             "schema": {"type": "string", "format": "date"}}])},
        "/api/tickets/{ticket_id}": {"get": _op("One ticket with its masked transcript", agent, params=tp)},
        "/api/tickets/{ticket_id}/claim": {"post": _op("Claim a ticket", agent, params=tp)},
        "/api/tickets/{ticket_id}/renew": {"post": _op("Renew the lease on a held ticket", agent, params=tp)},
        "/api/tickets/{ticket_id}/messages": {"post": _op("Send a message to the customer", agent, "AgentMessage", tp, "201")},
        "/api/tickets/{ticket_id}/transfer": {"post": _op("Transfer to an agent or a skill", agent, "Transfer", tp)},
        "/api/tickets/{ticket_id}/resolve": {"post": _op("Close as resolved and ask for a rating", agent, params=tp)},
        "/api/tickets/{ticket_id}/handback": {"post": _op("Hand the conversation back to the bot", agent, "Handback", tp)},
        "/api/tickets/{ticket_id}/reveal": {"post": _op("Reveal one masked value (audited)", agent, "Reveal", tp)},
        "/api/labels": {"get": _op("Agent-facing names and messages, hand-back flows included", agent)},
        "/api/chats/renew": {"post": _op("Renew the leases of the chats the console shows; which were lost", agent,
                                         "RenewChats")},
        "/api/tickets/{ticket_id}/context": {"get": _op("Customer panel: order, earlier conversations, notes (masked)",
                                                        agent, params=tp)},
        "/api/tickets/{ticket_id}/notes": {"post": _op("Add an internal note (agents only)", agent, "Note", tp, "201")},
        "/internal/escalate": {"post": _op("Put a conversation in the queue", internal, "Escalate", ok_status="201")},
        "/internal/customer-message": {"post": _op("A customer message during handoff", internal, "CustomerMessage")},
        "/internal/leave": {"post": _op("The customer leaves the queue", internal, "SenderOnly")},
        "/internal/bump": {"post": _op("Raise a waiting conversation to P0 (safety)", internal, "SenderOnly")},
        "/internal/conversations/{sender}": {"get": _op("Handoff state, position and wait", internal, params=[_SENDER_PARAM])},
        "/customer/{sender}/presence": {"post": _op("The in-app customer's page is open / closed (shown to the agent)", None,
                                                   "Presence", [_SENDER_PARAM])},
        "/customer/{sender}/status": {"get": _op("The in-app customer's handoff state and queue position", None,
                                                 params=[_SENDER_PARAM])},
        "/customer/{sender}/typing": {"post": _op("The in-app customer is typing (shown to the agent)", None, "Typing",
                                                  [_SENDER_PARAM])},
        "/customer/{sender}/messages": {"get": _op("Messages for a REST customer", "customerToken", params=[
            _SENDER_PARAM,
            {"name": "after", "in": "query", "required": False, "schema": {"type": "string", "pattern": STREAM_ID_PATTERN}},
        ])},
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "Kefu handoff bridge", "version": "1.0.0",
                 "description": "Human handoff: queue, agent console API, bot-side internal API. WebSocket: /ws/agent?token=&last_id="},
        "paths": paths,
        "components": {
            "schemas": {"Error": _ERROR_SCHEMA, **SCHEMAS},
            "securitySchemes": {
                agent: {"type": "http", "scheme": "bearer"},
                internal: {"type": "http", "scheme": "bearer"},
                "customerToken": {"type": "http", "scheme": "bearer"},
            },
        },
    }


# ---- wiring ------------------------------------------------------------------------------------

def build_service(settings: Settings) -> HandoffService:
    """Objects only; no connection is made until the first request."""
    queue = HandoffQueue.from_url(
        settings.redis_url, lease_seconds=settings.lease_seconds, max_chats=settings.max_chats,
        online_seconds=settings.online_seconds, sla_seconds=settings.sla_seconds,
        retention_seconds=settings.retention_seconds,
        wait_replicas=settings.redis_wait_replicas, wait_ms=settings.redis_wait_ms,
    )
    emitter = None
    try:
        from core.socketio_redis import KefuRedisManager  # optional at run time: REST polling works without it

        emitter = KefuRedisManager(settings.redis_url, write_only=True)
    except Exception as exc:  # socket.io relay is optional; REST polling still works
        logger.warning("socket.io relay unavailable: %s", exc)
    rasa = RasaClient(settings.rasa_url, settings.rasa_token)
    from handoff.outbox import default_path

    return HandoffService(
        queue=queue, agents=AgentDirectory(settings.agents_file), relay=Relay(queue, rasa, emitter),
        masker=Masker(), outbox=Outbox(settings.data_dir / default_path().name),
        escalations_per_hour=settings.escalations_per_hour,
        orders=OrdersReader(orders_path(settings.data_dir)),
    )


async def _background(service: HandoffService, settings: Settings, stop: asyncio.Event) -> None:
    """Lease reaper and outbox delivery until ``stop`` is set.

    A stop event, not only task cancellation: redis-py's asyncio client can
    swallow a CancelledError that lands inside a command, which would leave
    shutdown waiting forever.
    """
    last_outbox = 0.0
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        try:
            await service.reap_once()
            if loop.time() - last_outbox >= 5.0:
                last_outbox = loop.time()
                await service.drain_outbox()
        except QueueUnavailable:
            pass
        except Exception:
            logger.exception("handoff background loop")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=settings.reaper_interval)


def create_app(settings: Optional[Settings] = None, service: Optional[HandoffService] = None) -> Starlette:
    settings = settings or Settings.from_env()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        svc = service or build_service(settings)
        app.state.service = svc
        app.state.settings = settings
        app.state.day_figures = DayFiguresCache(ttl_ms=10_000)
        warm = asyncio.create_task(asyncio.to_thread(svc.masker.warm_up))
        stop = asyncio.Event()
        loop_task = asyncio.create_task(_background(svc, settings, stop))
        try:
            yield
        finally:
            stop.set()
            try:
                await asyncio.wait_for(loop_task, timeout=5)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                pass
            with contextlib.suppress(Exception):
                await warm
            await svc.relay.rasa.close()
            await svc.queue.close()

    t = "/api/tickets/{ticket_id}"
    routes: List[Any] = [
        Route("/health", health, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/api/me", me, methods=["GET"]),
        Route("/api/queue", queue_list, methods=["GET"]),
        Route("/api/queue/next", claim_next, methods=["POST"]),
        Route("/api/chats", my_chats, methods=["GET"]),
        Route("/api/scripts", scripts, methods=["GET"]),
        Route("/api/supervisor/stats", supervisor_stats, methods=["GET"]),
        Route(t, get_ticket, methods=["GET"]),
        Route(t + "/claim", claim, methods=["POST"]),
        Route(t + "/renew", renew, methods=["POST"]),
        Route(t + "/messages", send_message, methods=["POST"]),
        Route(t + "/transfer", transfer, methods=["POST"]),
        Route(t + "/resolve", resolve, methods=["POST"]),
        Route(t + "/handback", handback, methods=["POST"]),
        Route(t + "/reveal", reveal, methods=["POST"]),
        Route("/internal/escalate", internal_escalate, methods=["POST"]),
        Route("/internal/customer-message", internal_customer_message, methods=["POST"]),
        Route("/internal/leave", internal_leave, methods=["POST"]),
        Route("/internal/bump", internal_bump, methods=["POST"]),
        Route("/internal/conversations/{sender}", internal_conversation, methods=["GET"]),
        Route("/customer/{sender}/messages", customer_messages, methods=["GET"]),
        Route("/customer/{sender}/typing", customer_typing, methods=["POST"]),
        Route("/customer/{sender}/status", customer_status, methods=["GET"]),
        Route("/customer/{sender}/presence", customer_presence, methods=["POST"]),
        WebSocketRoute("/ws/agent", agent_socket),
        Route("/console", page, methods=["GET"]),
        Route("/chat", page, methods=["GET"]),
        Route("/supervisor", page, methods=["GET"]),
        Route("/config.js", web_config, methods=["GET"]),
        customer_token_route(settings),  # dev-only demo sign-in, 404 unless KEFU_DEV_LOGIN=1
    ]
    # imported here, not at the top: routes_agents uses this module's request helpers
    from handoff.routes_agents import ROUTES as AGENT_ROUTES

    routes[2:2] = AGENT_ROUTES
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(SecurityHeaders, headers=security_headers(settings.rasa_url))],
        exception_handlers={HandoffError: handoff_error, RedisError: redis_error, HTTPException: http_error,
                            Exception: internal_error},
    )
    if settings.web_dir is not None:
        # The router's fallback, not Mount("/"): a catch-all mount matches every
        # path fully, so GET /internal/escalate was its 404 instead of the
        # route's 405, and PUT on an API path got the static files' Allow.
        app.router.default = StaticFiles(directory=settings.web_dir)
    return app
