"""What is not an API call: the HTML pages, ``/config.js``, ``/health`` and ``/openapi.json``.

The pages (agent console, supervisor view, in-app customer chat) are files
in KEFU_WEB_DIR; anything else there is served by the router's static
fallback (handoff/app.py). ``/openapi.json`` serves the document generated
at start-up from the route table (handoff/openapi.py).
"""
from __future__ import annotations

import json
from typing import List

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from handoff.exceptions import QueueUnavailable
from handoff.routes.common import Endpoint, ok, service_of, settings_of

OPENAPI_PATH = "/openapi.json"
_PAGES = ("/console", "/chat", "/supervisor")


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
    return ok(request.app.state.openapi)


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


ENDPOINTS: List[Endpoint] = [Endpoint("GET", "/health", health, "Liveness and Redis reachability")]

#: served, not in the OpenAPI document (not JSON API calls)
ROUTES: List[Route] = [
    Route(OPENAPI_PATH, openapi, methods=["GET"]),
    *(Route(path, page, methods=["GET"]) for path in _PAGES),
    Route("/config.js", web_config, methods=["GET"]),
]
