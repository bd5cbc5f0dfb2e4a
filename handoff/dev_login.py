"""Dev-only demo sign-in: ``POST /dev/customer-token`` signs a demo customer's token.

In production the platform's app signs the customer JWT (core/identity.py);
the demo chat page has no app behind it, so for ``make run`` the bridge can
play that part for the seeded demo customers only, letting ``/chat?demo=<phone>``
show what a signed-in customer sees (no identity question).

Off unless ``KEFU_DEV_LOGIN=1`` (``make run`` sets it through
``bot.runner.stack --dev-login``): off, the route answers 404 like any unknown path,
so a deployment never hands out tokens by accident. Only the phones of
scripts/seed_orders.py are signed, never an arbitrary one: even switched on,
the endpoint cannot mint a token for a real customer.
"""
from __future__ import annotations

import hashlib
import os
from typing import Mapping, Optional

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.identity import Customer, customer_secret, sign
from handoff.exceptions import BadRequest, Forbidden, PayloadTooLarge
from handoff.safe_json import parse_json_body
from handoff.settings import Settings, SettingsError

PATH = "/dev/customer-token"
#: the seeded demo customers (scripts/seed_orders.py CUSTOMERS; tests/security/test_identity.py checks they agree)
DEMO_PHONES = frozenset({"13812345678", "13900001111", "13700002222"})
TOKEN_SECONDS = 8 * 3600
MAX_BODY = 1024


def dev_login_enabled(env: Optional[Mapping[str, str]] = None) -> bool:
    """KEFU_DEV_LOGIN: ``1`` switches the endpoint on; unset or ``0`` leaves it off; else SettingsError."""
    env = os.environ if env is None else env
    raw = env.get("KEFU_DEV_LOGIN", "").strip() or "0"
    if raw not in ("0", "1"):
        raise SettingsError(f"KEFU_DEV_LOGIN={raw!r} 应为 0 或 1 (expected 0 or 1)")
    return raw == "1"


def demo_customer(phone: str) -> Customer:
    """A demo customer with a stable id that is not the phone (ids end up in keys and logs)."""
    return Customer(sub="demo-" + hashlib.sha256(phone.encode()).hexdigest()[:12], phone=phone)


def customer_token_route(settings: Settings, env: Optional[Mapping[str, str]] = None) -> Route:
    """The route, with its switch and secret read once (at app creation, so a bad value fails start-up)."""
    enabled = dev_login_enabled(env)
    secret = customer_secret(env, settings.data_dir) if enabled else ""

    async def customer_token(request: Request) -> Response:
        if not enabled:
            raise HTTPException(404)
        body = await request.body()
        if len(body) > MAX_BODY:
            raise PayloadTooLarge(f"请求内容不能超过 {MAX_BODY} 字节")
        data = parse_json_body(body, MAX_BODY)
        phone = data.get("phone") if isinstance(data, dict) else None
        if not isinstance(phone, str):
            raise BadRequest("phone 必填 (required)")
        if phone not in DEMO_PHONES:
            raise Forbidden("只能为演示客户签发令牌 (demo customers only)")
        customer = demo_customer(phone)
        return JSONResponse({"token": sign(customer, secret, TOKEN_SECONDS), "sender": customer.sender})

    return Route(PATH, customer_token, methods=["POST"])
