"""``python -m actions.server``: the action server, closed to everyone but Rasa.

Why not ``rasa run actions``: it listens on 0.0.0.0 and runs any action for
anyone who can reach the port. One forged ``POST /webhook`` with a made-up
tracker then reads another customer's trip, refunds, cancels a ride or
floods the agents' queue with P0 tickets. This entry point serves rasa_sdk's
own app (``rasa_sdk.endpoint.create_app``, the same routes and executor) with
three differences:

- every route except ``GET /health`` needs ``Authorization: Bearer
  <KEFU_ACTION_TOKEN>``; Rasa sends it from ``endpoints.yml``
  (``action_endpoint.headers``, sent by Rasa's EndpointConfig on every call).
  A header, not ``?token=``, so the secret is in no URL and no access log;
- it binds ``KEFU_HOST`` (default 127.0.0.1) only, never every interface;
- errors are ``{"error": ...}`` without the request body: rasa_sdk's own
  handler echoes the whole tracker (customer text) back on a 500.

Nothing secret is read from the command line: the token comes from the
environment or ``$KEFU_DATA_DIR/action_token.secret`` (generated once, 0600,
the same file ``bot/runner/stack.py`` reads).
"""
from __future__ import annotations

import hmac
import logging
import os
import sys
from typing import Awaitable, Callable, Mapping, Optional

from rasa_sdk import utils
from rasa_sdk.endpoint import create_app
from rasa_sdk.plugin import plugin_manager
from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from core.paths import data_dir
from core.secrets import stored_secret

logger = logging.getLogger(__name__)

#: the action package rasa_sdk scans for Action subclasses
ACTION_PACKAGE = "actions"
#: the only routes open without the secret (liveness probes carry no data)
OPEN_PATHS = frozenset({"/health"})
TOKEN_ENV = "KEFU_ACTION_TOKEN"
#: name of the generated secret under the data dir (``<name>.secret``)
TOKEN_FILE_NAME = "action_token"

Middleware = Callable[[Request], Awaitable[Optional[HTTPResponse]]]


def action_token(env: Optional[Mapping[str, str]] = None) -> str:
    """KEFU_ACTION_TOKEN, else the generated one kept in the data dir."""
    env = os.environ if env is None else env
    return env.get(TOKEN_ENV) or stored_secret(data_dir(), TOKEN_FILE_NAME)


def bearer(header: str) -> str:
    """The token of an ``Authorization: Bearer <token>`` header, or ``""``."""
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def token_check(token: str) -> Middleware:
    """A Sanic request middleware: 401 unless the request carries ``token``.

    Constant-time comparison, and the refusal says nothing about the request
    (no body, no action name): a caller without the secret learns nothing.
    """
    if not token:
        raise ValueError(f"{TOKEN_ENV} is empty: the action server would be open to anyone")
    expected = token.encode()

    async def check(request: Request) -> Optional[HTTPResponse]:
        if request.path in OPEN_PATHS:
            return None
        given = bearer(request.headers.get("authorization", "")).encode()
        if hmac.compare_digest(given, expected):
            return None
        return response.json(
            {"error": "unauthorized", "detail": "missing or wrong action server token"},
            status=401, headers={"WWW-Authenticate": "Bearer"},
        )

    return check


async def safe_error(request: Request, exception: Exception) -> HTTPResponse:
    """Replaces rasa_sdk's handler, which returns the request body (the tracker)."""
    if isinstance(exception, SanicException):
        return response.json({"error": str(exception)[:200]}, status=exception.status_code)
    logger.error("action server error on %s %s", request.method, request.path, exc_info=exception)
    return response.json({"error": "internal error"}, status=500)


def build_app(token: str, package: str = ACTION_PACKAGE) -> Sanic:
    """rasa_sdk's app with the token check and the safe error handler.

    ``cors_origins=None``: the action server is called by Rasa, never by a
    browser, so it sends no CORS headers at all (rasa_sdk's default is ``*``).
    """
    app = create_app(package, cors_origins=None)
    check = token_check(token)

    async def first_in_chain(app: Sanic, loop: object) -> None:
        # sanic_cors puts its middleware first in a before_server_start
        # listener (it would answer OPTIONS preflights before any check);
        # this listener runs after it, so the token check is first of all.
        app.request_middleware.appendleft(check)

    app.register_listener(first_in_chain, "before_server_start")
    app.error_handler.add(Exception, safe_error)
    # Same extension hook `rasa run actions` calls (rasa_sdk.endpoint.run).
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    return app


def _port(env: Mapping[str, str]) -> int:
    raw = env.get("KEFU_ACTIONS_PORT", "5055")
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise ValueError(f"KEFU_ACTIONS_PORT={raw!r} 不是有效端口号 (not a port number)")
    return int(raw)


def main() -> int:
    """Serve on KEFU_HOST:KEFU_ACTIONS_PORT with SANIC_WORKERS workers."""
    env = os.environ
    try:
        host = env.get("KEFU_HOST", "").strip() or "127.0.0.1"
        port = _port(env)
        app = build_app(action_token(env))
    except ValueError as exc:
        print(f"配置错误 (configuration error): {exc}", file=sys.stderr)
        return 2
    # The logging rasa_sdk's own CLI sets up (rasa_sdk.__main__.main_from_args).
    utils.configure_colored_logging(env.get("LOG_LEVEL"))
    utils.update_sanic_log_level()
    logger.info("Action server on http://%s:%s (token required except on /health)", host, port)
    app.run(host, port, workers=utils.number_of_sanic_workers())
    return 0


if __name__ == "__main__":
    sys.exit(main())
