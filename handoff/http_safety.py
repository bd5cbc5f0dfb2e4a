"""The bridge's HTTP hardening that is not an endpoint: headers and error responses.

- ``SecurityHeaders``: every HTTP response (pages, static files, JSON) gets a
  Content-Security-Policy, X-Frame-Options, X-Content-Type-Options and
  Referrer-Policy. Scripts only from the bridge itself, so injected markup
  cannot run; no framing (clickjacking of the agent console); fetch and
  WebSocket only to the bridge and to Rasa's socket.io, which the customer
  chat page talks to on its own port (the URL ``/config.js`` hands out).
- ``http_error``: Starlette's 404/405 as the bridge's JSON error, keeping the
  ``Allow`` header a 405 must carry (the old handler dropped it).
- ``internal_error``: a 500 is JSON too and says nothing about the request.

Request bodies are checked in handoff/safe_json.py.
"""
from __future__ import annotations

from typing import Dict, List, Mapping, Optional, Sequence, Tuple
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_HTTP_CODES: Dict[int, Tuple[str, str]] = {
    404: ("not_found", "找不到该地址"),
    405: ("method_not_allowed", "不支持该请求方法"),
}
#: StaticFiles (the catch-all mount) serves GET and HEAD and raises its 405 without Allow
_STATIC_METHODS = "GET, HEAD"


def _origins(url: str) -> List[str]:
    """The HTTP and WebSocket origins of ``url`` (socket.io uses both)."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return []
    ws = "wss" if parts.scheme == "https" else "ws"
    return [f"{parts.scheme}://{parts.netloc}", f"{ws}://{parts.netloc}"]


def content_security_policy(rasa_url: str) -> str:
    """The pages' policy; ``rasa_url`` is where the chat pages open socket.io."""
    connect = " ".join(["'self'", *_origins(rasa_url)])
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",  # the stock rasa-webchat widget injects <style> elements
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        f"connect-src {connect}",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def security_headers(rasa_url: str) -> List[Tuple[str, str]]:
    return [
        ("Content-Security-Policy", content_security_policy(rasa_url)),
        ("X-Frame-Options", "DENY"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
    ]


class SecurityHeaders:
    """Pure ASGI middleware: adds ``headers`` to every HTTP response start.

    Not BaseHTTPMiddleware, which would buffer streamed and file responses;
    WebSocket and lifespan scopes pass through untouched. A header the
    endpoint set itself wins.
    """

    def __init__(self, app: ASGIApp, headers: Sequence[Tuple[str, str]]) -> None:
        self.app = app
        self.headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.headers if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def error_response(code: str, detail: str, status: int, headers: Optional[Mapping[str, str]] = None) -> JSONResponse:
    return JSONResponse({"error": code, "detail": detail}, status_code=status, headers=dict(headers or {}))


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code, detail = _HTTP_CODES.get(exc.status_code, ("http_error", str(exc.detail)))
    headers = dict(exc.headers or {})
    if exc.status_code == 405 and not any(k.lower() == "allow" for k in headers):
        headers["Allow"] = _STATIC_METHODS
    return error_response(code, detail, exc.status_code, headers)


async def internal_error(request: Request, exc: Exception) -> Response:
    """Whatever broke, the body says nothing about the request (the traceback goes to the masked log)."""
    return error_response("internal_error", "服务器内部错误,请稍后重试", 500,
                          headers={"X-Content-Type-Options": "nosniff"})
