"""What the stack reads from the environment, and the environment it gives its children.

Shared by bot/runner/stack.py (one of each service) and bot/runner/cluster.py (N
of each behind nginx). A bad setting is a :class:`ConfigError` whose message is
the one line that says what to fix; secrets come from the data dir
(core/secrets.py), never from a command line.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Tuple, TypeVar

import redis

from bot.runner.hardening import UnsafeSetting, cors_origins
from core.identity import customer_secret
from core.paths import ROOT, data_dir
from core.redis_url import RedisSettings, RedisUrlError, redacted
from core.secrets import stored_secret
from core.switches import SWITCHES, SwitchError, switch

T = TypeVar("T")


class ConfigError(Exception):
    """A setting that stops start-up; the message says what to fix."""


def _port(name: str, default: int) -> int:
    raw = os.environ.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} 不是有效端口号 (not a port number)") from None
    if not 1 <= value <= 65535:
        raise ConfigError(f"{name}={value} 超出端口范围 1-65535")
    return value


@dataclass(frozen=True)
class StackSettings:
    host: str
    rasa_port: int
    actions_port: int
    handoff_port: int
    redis_port: int
    redis_url: Optional[str]
    data_dir: Path
    model_path: Path
    rasa_token: str
    internal_token: str
    action_token: str
    cors_origins: Tuple[str, ...]
    #: signs the app's customer tokens (core/identity.py); the channels and the dev login read it
    customer_jwt_secret: str = ""
    #: Rasa's channels file; the product's has only Kefu's guarded channels
    credentials: Path = ROOT / "credentials.yml"

    @classmethod
    def from_env(cls) -> "StackSettings":
        data = data_dir()
        host = os.environ.get("KEFU_HOST", "127.0.0.1")
        handoff_port = _port("KEFU_HANDOFF_PORT", 5006)
        _check_switches()
        return cls(
            host=host,
            rasa_port=_port("KEFU_RASA_PORT", 5005),
            actions_port=_port("KEFU_ACTIONS_PORT", 5055),
            handoff_port=handoff_port,
            redis_port=_port("KEFU_REDIS_PORT", 6380),
            redis_url=os.environ.get("REDIS_URL") or None,
            data_dir=data,
            model_path=Path(os.environ.get("KEFU_MODEL", ROOT / "models")),
            rasa_token=os.environ.get("KEFU_RASA_TOKEN") or stored_secret(data, "rasa_token"),
            internal_token=os.environ.get("KEFU_INTERNAL_TOKEN") or stored_secret(data, "internal_token"),
            action_token=os.environ.get("KEFU_ACTION_TOKEN") or stored_secret(data, "action_token"),
            cors_origins=checked(cors_origins, os.environ.get("KEFU_CORS_ORIGINS", ""), host, handoff_port),
            customer_jwt_secret=_customer_secret(data),
            credentials=_credentials(os.environ.get("KEFU_CREDENTIALS", "")),
        )


def _check_switches() -> None:
    """Every on/off setting (core/switches.py) is read in the Rasa workers; a typo stops the start here instead."""
    for name in SWITCHES:
        try:
            switch(name)
        except SwitchError as exc:
            raise ConfigError(str(exc)) from None


def _credentials(raw: str) -> Path:
    """KEFU_CREDENTIALS (relative to the checkout) or the product's credentials.yml."""
    path = (ROOT / raw) if raw else ROOT / "credentials.yml"
    if not path.is_file():
        raise ConfigError(f"KEFU_CREDENTIALS={raw} 不存在 (no such file)")
    return path


def _customer_secret(data: Path) -> str:
    """KEFU_CUSTOMER_JWT_SECRET or the generated one; a too short secret is a one-line ConfigError."""
    try:
        return customer_secret(os.environ, data)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def checked(check: Callable[..., T], *args: Any) -> T:
    """Run a bot.runner.hardening check; its refusal becomes a one-line ConfigError."""
    try:
        return check(*args)
    except UnsafeSetting as exc:
        raise ConfigError(str(exc)) from None


def redis_env(url: str) -> Dict[str, str]:
    """The variables endpoints.yml reads, from one REDIS_URL (core/redis_url.py; the stores prefer REDIS_URL)."""
    try:
        parsed = RedisSettings.parse(url)
    except RedisUrlError as exc:
        raise ConfigError(str(exc)) from None
    host, port = parsed.hosts[0] if parsed.hosts else ("127.0.0.1", 6379)
    return {
        "REDIS_URL": url,
        "KEFU_REDIS_HOST": host,
        "KEFU_REDIS_PORT": str(port),
        "KEFU_REDIS_DB": str(parsed.db),
        "KEFU_REDIS_PASSWORD": parsed.password or "",
    }


def check_redis(url: str) -> None:
    try:
        client = RedisSettings.parse(url).client(socket_connect_timeout=2, socket_timeout=2)
        client.ping()
        client.close()
    except RedisUrlError as exc:
        raise ConfigError(str(exc)) from None
    except redis.RedisError as exc:
        raise ConfigError(f"无法连接 REDIS_URL={redacted(url)} ({exc.__class__.__name__}): 请检查 Redis 是否启动, 或删除 REDIS_URL 使用内置 Redis") from None


def service_env(settings: StackSettings, redis_url: str) -> Dict[str, str]:
    env = dict(os.environ)
    env.update(redis_env(redis_url))
    env.update(
        {
            "KEFU_DATA_DIR": str(settings.data_dir),
            "KEFU_HOST": settings.host,
            "KEFU_ACTIONS_PORT": str(settings.actions_port),
            "KEFU_ACTION_URL": f"http://{settings.host}:{settings.actions_port}/webhook",
            # endpoints.yml sends it as a header on every action call
            "KEFU_ACTION_TOKEN": settings.action_token,
            "KEFU_HANDOFF_URL": f"http://{settings.host}:{settings.handoff_port}",
            "KEFU_HANDOFF_HOST": settings.host,
            "KEFU_HANDOFF_PORT": str(settings.handoff_port),
            "RASA_URL": f"http://{settings.host}:{settings.rasa_port}",
            "KEFU_RASA_TOKEN": settings.rasa_token,
            "KEFU_INTERNAL_TOKEN": settings.internal_token,
            "KEFU_CUSTOMER_JWT_SECRET": settings.customer_jwt_secret,
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "RASA_TELEMETRY_ENABLED": "false",
            "PYTHONUNBUFFERED": "1",
            "SANIC_ACCESS_LOG": "false",
        }
    )
    return env
