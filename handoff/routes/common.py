"""What every route module shares: the endpoint table's row, credentials, bodies and path parameters.

An :class:`Endpoint` is one row of the bridge's route table: the Starlette
route is built from it (handoff/app.py) and so is its entry in the OpenAPI
document (handoff/openapi.py), body model included, so a route cannot be
served without being documented.
"""
from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, Optional, Tuple, Type, TypeVar

from pydantic import ValidationError
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from handoff.agents import Agent
from handoff.exceptions import BadRequest, PayloadTooLarge, Unauthorized
from handoff.models import SENDER_PATTERN, STREAM_ID_PATTERN, TICKET_PATTERN, Body, error_detail
from handoff.safe_json import parse_json_body
from handoff.service import HandoffService
from handoff.settings import Settings

B = TypeVar("B", bound=Body)
Handler = Callable[[Request], Awaitable[Response]]

#: who may call an endpoint (the OpenAPI security scheme names)
AGENT, INTERNAL, CUSTOMER = "agentToken", "internalToken", "customerToken"


@dataclass(frozen=True)
class Query:
    """A query parameter the OpenAPI document lists (the handler reads and checks it)."""

    name: str
    schema: Dict[str, Any]


@dataclass(frozen=True)
class Endpoint:
    """One route: method, path, handler and what the document says of it."""

    method: str
    path: str
    handler: Handler
    summary: str
    #: AGENT, INTERNAL, CUSTOMER, or None for an open endpoint
    security: Optional[str] = None
    body: Optional[Type[Body]] = None
    query: Tuple[Query, ...] = ()
    status: int = 200

    def route(self) -> Route:
        return Route(self.path, self.handler, methods=[self.method])


# ---- request helpers -------------------------------------------------------

def service_of(conn: HTTPConnection) -> HandoffService:
    return conn.app.state.service  # type: ignore[no-any-return]


def settings_of(conn: HTTPConnection) -> Settings:
    return conn.app.state.settings  # type: ignore[no-any-return]


async def read_body(request: Request, model: Type[B], prepare: Optional[Callable[[Any], Any]] = None) -> B:
    """The body as ``model``; ``prepare`` may first make it safe (handoff/intake.py).

    413 past KEFU_MAX_BODY_BYTES (declared or while reading), 400 for bad
    JSON, nesting or lone surrogates (handoff/safe_json.py), 400 naming the
    field and the rule when the model refuses it.
    """
    limit = settings_of(request).max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise PayloadTooLarge(f"请求内容不能超过 {limit} 字节")
        except ValueError:
            raise BadRequest("Content-Length 无效") from None
    raw = bytearray()
    async for chunk in request.stream():
        raw.extend(chunk)
        if len(raw) > limit:
            raise PayloadTooLarge(f"请求内容不能超过 {limit} 字节")
    data = parse_json_body(bytes(raw), limit)  # 400 for nesting, lone surrogates, bad JSON
    if prepare is not None:
        data = prepare(data)
    if not isinstance(data, dict):
        raise BadRequest("body: 类型应为 object")
    try:
        return model.parse_obj(data)
    except ValidationError as exc:
        raise BadRequest(error_detail(exc)[:300]) from None  # names the field, never echoes the value


def path_param(request: Request, name: str, pattern: str) -> str:
    value = str(request.path_params.get(name, ""))
    if not re.fullmatch(pattern.strip("^$"), value):
        raise BadRequest(f"{name} 格式不正确")
    return value


def ticket_id_of(request: Request) -> str:
    return path_param(request, "ticket_id", TICKET_PATTERN)


def sender_of(request: Request) -> str:
    return path_param(request, "sender", SENDER_PATTERN)


def stream_id_ok(value: str) -> bool:
    """A Redis stream id as the poll and the WebSocket take it ("0" or ms-seq)."""
    return re.fullmatch(STREAM_ID_PATTERN.strip("^$"), value) is not None


def bearer(conn: HTTPConnection) -> str:
    header = conn.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return ""


def agent_of(conn: HTTPConnection, token: Optional[str] = None) -> Agent:
    agent = service_of(conn).agents.by_token(token if token is not None else bearer(conn))
    if agent is None:
        raise Unauthorized("坐席令牌无效或已过期")
    return agent


def require_internal(conn: HTTPConnection) -> None:
    expected = settings_of(conn).internal_token
    given = bearer(conn) or conn.headers.get("x-kefu-internal-token", "")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthorized("内部接口令牌无效")


def ok(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status)
