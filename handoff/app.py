"""The bridge's HTTP edge, assembled: routes, middleware, error handlers and the background loop.

Three audiences, three credentials (one route module each, handoff/routes/):
- agents: ``Authorization: Bearer <agent token>`` (stored as sha256) on /api/*
  and ``?token=`` on the /ws/agent WebSocket (routes/agents.py, routes/agent_socket.py);
- the bot side (channels, actions): the shared internal token on /internal/* (routes/internal.py);
- REST customers: the per-conversation token handed out at escalation, on
  ``GET /customer/{sender}/messages`` (routes/customers.py).
Pages, /config.js, /health and /openapi.json are in routes/pages.py.

Every error is ``{"error": code, "detail": message}`` with a 4xx status
(503 when Redis is unreachable). Request bodies are limited in size and
validated by the pydantic models (handoff/models.py) the OpenAPI document is
generated from (handoff/openapi.py).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, AsyncIterator, Dict, List, Optional

from redis.exceptions import RedisError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.staticfiles import StaticFiles

from core.socketio_redis import KefuRedisManager
from handoff import openapi
from handoff.agents import AgentDirectory
from handoff.dev_login import customer_token_route
from handoff.exceptions import HandoffError, QueueUnavailable
from handoff.http_safety import SecurityHeaders, http_error, internal_error, security_headers
from handoff.orders import OrdersReader
from handoff.outbox import Outbox, default_path as outbox_path
from handoff.privacy import Masker
from handoff.queue import HandoffQueue
from handoff.relay import RasaClient, Relay
from handoff.routes import agent_socket, agents, customers, internal, pages
from handoff.routes.common import Endpoint
from handoff.service import HandoffService
from handoff.settings import Settings
from handoff.stats import DayFiguresCache
from orders.service import default_db_path as orders_path

logger = logging.getLogger(__name__)

#: every JSON endpoint, by audience: served and documented from this one table
ENDPOINTS: List[Endpoint] = [*pages.ENDPOINTS, *agents.ENDPOINTS, *internal.ENDPOINTS, *customers.ENDPOINTS]


def openapi_document() -> Dict[str, Any]:
    """The OpenAPI document of ENDPOINTS (what /openapi.json serves)."""
    return openapi.document(ENDPOINTS)


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
        emitter = KefuRedisManager(settings.redis_url, write_only=True)
    except Exception as exc:  # socket.io relay is optional; REST polling still works
        logger.warning("socket.io relay unavailable: %s", exc)
    rasa = RasaClient(settings.rasa_url, settings.rasa_token)
    return HandoffService(
        queue=queue, agents=AgentDirectory(settings.agents_file), relay=Relay(queue, rasa, emitter),
        masker=Masker(), outbox=Outbox(settings.data_dir / outbox_path().name),
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

    routes: List[Any] = [
        *(endpoint.route() for endpoint in ENDPOINTS),
        agent_socket.ROUTE,
        *pages.ROUTES,
        customer_token_route(settings),  # dev-only demo sign-in, 404 unless KEFU_DEV_LOGIN=1
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(SecurityHeaders, headers=security_headers(settings.rasa_url))],
        exception_handlers={HandoffError: handoff_error, RedisError: redis_error, HTTPException: http_error,
                            Exception: internal_error},
    )
    app.state.openapi = openapi_document()
    if settings.web_dir is not None:
        # The router's fallback, not Mount("/"): a catch-all mount matches every
        # path fully, so GET /internal/escalate was its 404 instead of the
        # route's 405, and PUT on an API path got the static files' Allow.
        app.router.default = StaticFiles(directory=settings.web_dir)
    return app
