"""Bridge settings from the environment, checked once at start-up.

A bad value stops start-up with one line saying, in Chinese and English,
which variable to fix. Nothing here connects to anything.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional
from urllib.parse import urlparse

from core.redis_url import RedisSettings, RedisUrlError
from core.secrets import stored_secret


class SettingsError(ValueError):
    """A setting that stops start-up; the message says what to fix."""


def _data_dir(env: Mapping[str, str]) -> Path:
    root = Path(__file__).resolve().parent.parent
    return Path(env.get("KEFU_DATA_DIR") or root / "var").resolve()


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip() or str(default)
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} 不是整数 (not an integer)") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}={value} 超出范围 {low}-{high} (out of range {low}-{high})")
    return value


def int_setting(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """An integer variable in ``low..high`` (unset or blank: ``default``); SettingsError otherwise.

    Public so the customer limits (handoff/limits.py) fail the same way, with the same words.
    """
    return _int(env, name, default, low, high)


def _url(env: Mapping[str, str], name: str, default: str, schemes: tuple[str, ...]) -> str:
    value = env.get(name, "").strip() or default
    parsed = urlparse(value)
    if parsed.scheme not in schemes or not parsed.hostname:
        raise SettingsError(
            f"{name}={value!r} 格式不对, 应为 {schemes[0]}://host:port (expected a {schemes[0]}:// URL)"
        )
    try:
        parsed.port
    except ValueError:
        raise SettingsError(f"{name}={value!r} 端口无效 (invalid port)") from None
    return value.rstrip("/")


def _redis_url(env: Mapping[str, str]) -> str:
    """REDIS_URL checked by the one parser every client uses (core/redis_url.py): TLS, ACL, Sentinel."""
    value = env.get("REDIS_URL", "").strip() or "redis://127.0.0.1:6379/0"
    try:
        RedisSettings.parse(value)
    except RedisUrlError as exc:
        raise SettingsError(str(exc)) from None
    return value


@dataclass(frozen=True)
class Settings:
    redis_url: str = "redis://127.0.0.1:6379/0"
    host: str = "127.0.0.1"
    port: int = 5006
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str = ""
    internal_token: str = ""
    lease_seconds: int = 30
    sla_seconds: Mapping[str, int] = field(default_factory=lambda: {"P0": 60, "P1": 300, "P2": 900})
    max_chats: int = 3
    agents_file: Path = Path("var/agents.json")
    data_dir: Path = Path("var")
    max_body_bytes: int = 64 * 1024
    demo_agents: bool = True
    #: an agent counts as online when seen within this many seconds
    online_seconds: int = 60
    reaper_interval: float = 1.0
    web_dir: Optional[Path] = None
    #: tickets, transcripts and REST outboxes expire this long after their last write
    retention_days: int = 30
    #: new non-safety tickets one sender may open per hour (KEFU_ESCALATIONS_PER_HOUR)
    escalations_per_hour: int = 5
    #: KEFU_REDIS_WAIT_REPLICAS: replicas that must hold an escalation before it is acknowledged
    redis_wait_replicas: int = 0
    #: KEFU_REDIS_WAIT_MS: how long the bridge waits for them
    redis_wait_ms: int = 1000

    @property
    def retention_seconds(self) -> int:
        return self.retention_days * 86400

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "Settings":
        env = os.environ if env is None else env
        data = _data_dir(env)
        lease = _int(env, "KEFU_HANDOFF_LEASE_SECONDS", 30, 2, 3600)
        agents_file = Path(env.get("KEFU_AGENTS_FILE") or data / "agents.json")
        demo_raw = env.get("KEFU_DEMO_AGENTS", "1").strip().lower()
        if demo_raw not in ("0", "1", "true", "false", "yes", "no"):
            raise SettingsError(f"KEFU_DEMO_AGENTS={demo_raw!r} 应为 0 或 1 (expected 0 or 1)")
        web = Path(__file__).resolve().parent.parent / "web"
        return cls(
            redis_url=_redis_url(env),
            host=env.get("KEFU_HANDOFF_HOST", "").strip() or "127.0.0.1",
            port=_int(env, "KEFU_HANDOFF_PORT", 5006, 1, 65535),
            rasa_url=_url(env, "RASA_URL", "http://127.0.0.1:5005", ("http", "https")),
            rasa_token=env.get("KEFU_RASA_TOKEN") or stored_secret(data, "rasa_token"),
            internal_token=env.get("KEFU_INTERNAL_TOKEN") or stored_secret(data, "internal_token"),
            lease_seconds=lease,
            sla_seconds={
                "P0": _int(env, "KEFU_SLA_P0_SECONDS", 60, 1, 86400),
                "P1": _int(env, "KEFU_SLA_P1_SECONDS", 300, 1, 86400),
                "P2": _int(env, "KEFU_SLA_P2_SECONDS", 900, 1, 86400),
            },
            max_chats=_int(env, "KEFU_AGENT_MAX_CHATS", 3, 1, 50),
            agents_file=agents_file.resolve(),
            data_dir=data,
            max_body_bytes=_int(env, "KEFU_HANDOFF_MAX_BODY", 64 * 1024, 1024, 10 * 1024 * 1024),
            demo_agents=demo_raw in ("1", "true", "yes"),
            online_seconds=max(2 * lease, 10),
            web_dir=web if web.is_dir() else None,
            retention_days=_int(env, "KEFU_RETENTION_DAYS", 30, 1, 3650),
            escalations_per_hour=_int(env, "KEFU_ESCALATIONS_PER_HOUR", 5, 1, 1000),
            redis_wait_replicas=_int(env, "KEFU_REDIS_WAIT_REPLICAS", 0, 0, 16),
            redis_wait_ms=_int(env, "KEFU_REDIS_WAIT_MS", 1000, 10, 60000),
        )
