"""Signed customer identity from the platform's app (issue 12, customer identity).

The app knows who is signed in; the bot must not take a customer's word for
it. The app therefore sends an HS256 JWT with the claims ``sub`` (customer
id) and ``phone`` (11-digit mainland mobile), signed with
``KEFU_CUSTOMER_JWT_SECRET`` (default: ``customer_jwt.secret`` generated in
the data dir, like the other tokens). Both Kefu channels verify it
(bot/channels/): a valid token fixes the conversation id (``app-<sub>``)
and puts the claims into the message metadata under ``CLAIMS_KEY``, which the
channels always strip from what a client sent, so only this server sets it.
actions/forms.py then uses the phone instead of asking for it.

PyJWT does the crypto; this module only decides which tokens count: HS256
only (no ``none``, no algorithm confusion), ``exp`` honoured when present,
``sub`` and a valid ``phone`` required.
"""
from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Mapping, Optional

import jwt

from core.paths import data_dir
from core.secrets import stored_secret

#: the metadata key the Kefu channels own: set from a verified token, removed from client input
CLAIMS_KEY = "kefu_customer"
#: conversation ids of signed-in customers; anonymous callers may not use them
SENDER_PREFIX = "app-"
ALGORITHM = "HS256"
SECRET_ENV = "KEFU_CUSTOMER_JWT_SECRET"
SECRET_NAME = "customer_jwt"
#: RFC 7518 3.2: an HS256 key at least as long as the hash
MIN_SECRET_CHARS = 32
_SUB = re.compile(r"[A-Za-z0-9_.:@-]{1,64}")
_PHONE = re.compile(r"1[3-9][0-9]{9}")


class IdentityError(Exception):
    """A token that does not identify a customer. ``detail`` never repeats the token."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class Customer:
    """A signed-in customer, as the verified token says."""

    sub: str
    phone: str

    @property
    def sender(self) -> str:
        """The conversation id: derived from the identity, so no one else can pick it."""
        return SENDER_PREFIX + self.sub

    def claims(self) -> Dict[str, str]:
        return {"sub": self.sub, "phone": self.phone}


def customer_secret(env: Optional[Mapping[str, str]] = None, directory: Optional[Path] = None) -> str:
    """The signing secret: KEFU_CUSTOMER_JWT_SECRET, else one generated into the data dir.

    A secret shorter than 32 characters is refused (ValueError): a short HMAC
    key can be brute-forced offline from one captured token.
    """
    env = os.environ if env is None else env
    secret = (env.get(SECRET_ENV) or "").strip() or stored_secret(directory or data_dir(), SECRET_NAME)
    if len(secret) < MIN_SECRET_CHARS:
        raise ValueError(f"{SECRET_ENV} 太短, 至少 {MIN_SECRET_CHARS} 个字符 (too short, at least {MIN_SECRET_CHARS} characters)")
    return secret


def verify(token: str, secret: str) -> Customer:
    """The customer a token names, or IdentityError (bad signature, algorithm, expiry or claims)."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["sub"]})
    except jwt.ExpiredSignatureError:
        raise IdentityError("customer token expired") from None
    except jwt.PyJWTError:
        raise IdentityError("customer token invalid") from None
    sub, phone = claims.get("sub"), claims.get("phone")
    if not isinstance(sub, str) or not _SUB.fullmatch(sub):
        raise IdentityError("customer token: sub missing or malformed")
    if not isinstance(phone, str) or not _PHONE.fullmatch(phone):
        raise IdentityError("customer token: phone missing or not a mainland mobile number")
    return Customer(sub=sub, phone=phone)


def sign(customer: Customer, secret: str, ttl_seconds: int = 3600) -> str:
    """A token for ``customer`` (the platform's job in production; the dev login and tests use it)."""
    now = int(time.time())
    payload = {**customer.claims(), "iat": now, "exp": now + ttl_seconds}
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def reserved(sender: str) -> bool:
    """Whether a conversation id belongs to signed-in customers (anonymous callers may not use it)."""
    return sender.startswith(SENDER_PREFIX)


def with_customer(metadata: Any, customer: Optional[Customer]) -> Dict[str, Any]:
    """The message metadata to pass to Rasa: the client's, minus CLAIMS_KEY, plus the verified claims."""
    out: Dict[str, Any] = dict(metadata) if isinstance(metadata, dict) else {}
    out.pop(CLAIMS_KEY, None)
    if customer is not None:
        out[CLAIMS_KEY] = customer.claims()
    return out


class CustomerVerifier:
    """Verifies tokens with the configured secret, read once on first use (the channels hold one)."""

    def __init__(self, secret: Optional[str] = None) -> None:
        self._secret = secret

    def secret(self) -> str:
        if self._secret is None:
            self._secret = customer_secret()
        return self._secret

    def verify(self, token: str) -> Customer:
        return verify(token, self.secret())

    def from_authorization(self, header: str) -> Customer:
        """The customer of an ``Authorization: Bearer <jwt>`` header, or IdentityError."""
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise IdentityError("Authorization must be 'Bearer <customer token>'")
        return self.verify(token.strip())
