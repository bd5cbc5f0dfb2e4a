"""One ``REDIS_URL`` for every Redis client of the stack, parsed once.

Who reads it: Rasa's tracker and lock stores (bot/stores/tracker_store.py,
bot/stores/lock_store.py), the channels' handoff gate and socket.io manager
(bot/channels/), the bridge's queue and its socket.io emitter
(handoff/queue/, handoff/app.py). Before this module each built its own
client from ``REDIS_URL`` or ``KEFU_REDIS_HOST``/``PORT``/``PASSWORD``, so a
production URL (TLS, ACL user, Sentinel) worked for some and not others.

Accepted forms (README, "Scale-out")::

    redis://[user:password@]host[:port][/db]
    rediss://[user:password@]host[:port][/db][?ssl_ca_certs=/path&ssl_cert_reqs=required]
    redis+sentinel://[user:password@]s1[:26379][,s2[:26379]...]/master-name[/db][?sentinel_password=...]
    rediss+sentinel://...   (TLS to the sentinels and to the master)
    unix:///path/to/redis.sock[?db=0]

A malformed URL raises ``RedisUrlError`` naming the rule broken; its message
never contains the password. Nothing here connects at import time.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any, Dict, Mapping, Optional, Tuple
from urllib.parse import parse_qs, unquote, urlsplit

import redis
import redis.asyncio as aioredis
from redis.asyncio.sentinel import Sentinel as AsyncSentinel
from redis.sentinel import Sentinel

DEFAULT_PORT = 6379
DEFAULT_SENTINEL_PORT = 26379
SCHEMES = ("redis", "rediss", "redis+sentinel", "rediss+sentinel", "unix")
_CERT_REQS = ("none", "optional", "required")


class RedisUrlError(ValueError):
    """A REDIS_URL that cannot be used; the message says what to fix (never the password)."""


@dataclass(frozen=True)
class RedisSettings:
    """Where and how to reach Redis: one value every client of the stack is built from."""

    #: ``(host, port)`` of the server, or of every sentinel
    hosts: Tuple[Tuple[str, int], ...] = (("127.0.0.1", DEFAULT_PORT),)
    db: int = 0
    username: Optional[str] = None
    password: Optional[str] = field(default=None, repr=False)
    tls: bool = False
    ssl_ca_certs: Optional[str] = None
    ssl_cert_reqs: str = "required"
    #: set for Sentinel: the master's name the sentinels monitor
    master_name: Optional[str] = None
    sentinel_password: Optional[str] = field(default=None, repr=False)
    unix_path: Optional[str] = None

    @property
    def sentinel(self) -> bool:
        return self.master_name is not None

    # ---- parsing -------------------------------------------------------------------------------

    @classmethod
    def parse(cls, url: str) -> "RedisSettings":
        """The settings of one URL; ``RedisUrlError`` saying what is wrong otherwise."""
        shown = redacted(url)
        try:
            parts = urlsplit(url.strip())
        except ValueError as exc:
            raise RedisUrlError(f"REDIS_URL={shown} 无法解析 (cannot be parsed: {exc})") from None
        scheme = parts.scheme.lower()
        if scheme not in SCHEMES:
            raise RedisUrlError(
                f"REDIS_URL={shown} 协议不支持, 应为 redis://, rediss://, redis+sentinel:// 或 unix:// "
                "(unsupported scheme)")
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        username = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password is not None else None
        if scheme == "unix":
            if not parts.path:
                raise RedisUrlError(f"REDIS_URL={shown} 缺少套接字路径 (unix:// needs a socket path)")
            return cls(hosts=(), db=_db(query.get("db", "0"), shown), username=username, password=password,
                       unix_path=parts.path)
        tls = scheme.startswith("rediss")
        reqs = query.get("ssl_cert_reqs", "required").lower()
        if reqs not in _CERT_REQS:
            raise RedisUrlError(f"REDIS_URL={shown}: ssl_cert_reqs 应为 none, optional 或 required")
        common: Dict[str, Any] = dict(username=username, password=password, tls=tls,
                                      ssl_ca_certs=query.get("ssl_ca_certs") or None, ssl_cert_reqs=reqs)
        segments = [unquote(s) for s in parts.path.split("/") if s]
        if scheme.endswith("+sentinel"):
            if not segments:
                raise RedisUrlError(
                    f"REDIS_URL={shown} 缺少主节点名称, 应为 redis+sentinel://host:26379,host2:26379/mymaster/0 "
                    "(the master name is missing)")
            if len(segments) > 2:
                raise RedisUrlError(f"REDIS_URL={shown}: 路径应为 /主节点名称[/db] (path must be /master[/db])")
            return cls(hosts=_hosts(parts.netloc, DEFAULT_SENTINEL_PORT, shown), master_name=segments[0],
                       db=_db(segments[1] if len(segments) > 1 else "0", shown),
                       sentinel_password=query.get("sentinel_password") or None, **common)
        if len(segments) > 1:
            raise RedisUrlError(f"REDIS_URL={shown}: 路径应为 /db (path must be /db)")
        hosts = _hosts(parts.netloc, DEFAULT_PORT, shown)
        if len(hosts) != 1:
            raise RedisUrlError(f"REDIS_URL={shown}: 只有 Sentinel 可以列出多个主机 (several hosts need redis+sentinel://)")
        return cls(hosts=hosts, db=_db(segments[0] if segments else "0", shown), **common)

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None, host: Optional[str] = None,
                 port: Optional[int] = None, db: Optional[int] = None,
                 password: Optional[str] = None) -> "RedisSettings":
        """``REDIS_URL`` when set; else the given values, else ``KEFU_REDIS_HOST``/``PORT``/``DB``/``PASSWORD``."""
        env = os.environ if env is None else env
        url = (env.get("REDIS_URL") or "").strip()
        if url:
            return cls.parse(url)
        try:
            resolved_port = int(port if port is not None else env.get("KEFU_REDIS_PORT") or DEFAULT_PORT)
            resolved_db = int(db if db is not None else env.get("KEFU_REDIS_DB") or 0)
        except ValueError:
            raise RedisUrlError("KEFU_REDIS_PORT / KEFU_REDIS_DB 应为整数 (must be integers)") from None
        return cls(hosts=((host or env.get("KEFU_REDIS_HOST") or "127.0.0.1", resolved_port),), db=resolved_db,
                   password=(password if password is not None else env.get("KEFU_REDIS_PASSWORD")) or None)

    # ---- clients -------------------------------------------------------------------------------

    def connection_kwargs(self) -> Dict[str, Any]:
        """Keyword arguments of ``redis.Redis`` (and its asyncio twin) for the data connection.

        For Sentinel: those of the master connection (no host/port: the sentinels name it).
        """
        kwargs: Dict[str, Any] = {"db": self.db}
        if self.username:
            kwargs["username"] = self.username
        if self.password is not None:
            kwargs["password"] = self.password
        if self.unix_path:
            kwargs["unix_socket_path"] = self.unix_path
            return kwargs
        if not self.sentinel:
            kwargs["host"], kwargs["port"] = self.hosts[0]
        kwargs.update(self._tls_kwargs())
        return kwargs

    def sentinel_kwargs(self) -> Dict[str, Any]:
        """Keyword arguments of the connections to the sentinels themselves."""
        kwargs: Dict[str, Any] = {}
        if self.sentinel_password:
            kwargs["password"] = self.sentinel_password
        kwargs.update(self._tls_kwargs())
        return kwargs

    def _tls_kwargs(self) -> Dict[str, Any]:
        """redis-py's TLS options, the same for the servers and the sentinels; {} without TLS."""
        if not self.tls:
            return {}
        kwargs: Dict[str, Any] = {"ssl": True, "ssl_cert_reqs": self.ssl_cert_reqs}
        if self.ssl_ca_certs:
            kwargs["ssl_ca_certs"] = self.ssl_ca_certs
        return kwargs

    def client(self, **options: Any) -> redis.Redis:
        """A synchronous client (Rasa's stores); with Sentinel, one that follows the master."""
        if self.sentinel:
            sentinel = Sentinel(list(self.hosts), sentinel_kwargs=self._to_sentinels(options))
            return sentinel.master_for(str(self.master_name), **self.connection_kwargs(), **options)
        return redis.Redis(**self.connection_kwargs(), **options)

    def async_client(self, **options: Any) -> aioredis.Redis:
        """An asyncio client (the bridge, the channels, socket.io); Sentinel-aware like ``client``."""
        if self.sentinel:
            sentinel = AsyncSentinel(list(self.hosts), sentinel_kwargs=self._to_sentinels(options))
            return sentinel.master_for(str(self.master_name), **self.connection_kwargs(), **options)
        return aioredis.Redis(**self.connection_kwargs(), **options)

    def _to_sentinels(self, options: Mapping[str, Any]) -> Dict[str, Any]:
        """The sentinels' connections: the same timeouts as the data connection, their own credentials."""
        timeouts = {k: v for k, v in options.items() if k.startswith("socket_")}
        return {**timeouts, **self.sentinel_kwargs()}

    def with_db(self, db: int) -> "RedisSettings":
        return replace(self, db=db)

    def describe(self) -> str:
        """For logs and start-up lines: where, never the password."""
        if self.unix_path:
            return f"unix://{self.unix_path} db {self.db}"
        where = ",".join(f"{h}:{p}" for h, p in self.hosts)
        kind = f"sentinel {where} master {self.master_name}" if self.sentinel else where
        return f"{'TLS ' if self.tls else ''}{kind} db {self.db}" + (f" user {self.username}" if self.username else "")


def _hosts(netloc: str, default_port: int, shown: str) -> Tuple[Tuple[str, int], ...]:
    where = netloc.rpartition("@")[2]
    if not where:
        raise RedisUrlError(f"REDIS_URL={shown} 缺少主机 (no host)")
    found = []
    for item in where.split(","):
        host, port = item, str(default_port)
        if item.startswith("["):  # [::1]:6379
            host, _, rest = item[1:].partition("]")
            port = rest.lstrip(":") or port
        elif ":" in item:
            host, _, port = item.rpartition(":")
        if not host:
            raise RedisUrlError(f"REDIS_URL={shown} 主机名为空 (empty host)")
        try:
            number = int(port)
        except ValueError:
            raise RedisUrlError(f"REDIS_URL={shown} 端口无效 {port!r} (invalid port)") from None
        if not 1 <= number <= 65535:
            raise RedisUrlError(f"REDIS_URL={shown} 端口超出范围 1-65535 (port out of range)")
        found.append((host, number))
    return tuple(found)


def _db(raw: str, shown: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise RedisUrlError(f"REDIS_URL={shown}: 数据库编号应为整数 (db must be an integer)") from None
    if not 0 <= value <= 1000:
        raise RedisUrlError(f"REDIS_URL={shown}: 数据库编号超出范围 (db out of range)")
    return value


def redacted(url: str) -> str:
    """The URL with its password (and a sentinel_password) replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable>"
    netloc = parts.netloc
    if "@" not in netloc and "sentinel_password" not in parts.query:
        return url
    if "@" in netloc:
        creds, _, where = netloc.rpartition("@")
        user = creds.partition(":")[0]
        netloc = f"{user}:***@{where}" if ":" in creds else f"{user}@{where}"
    query = "&".join(
        f"{k}=***" if k == "sentinel_password" else f"{k}={v[-1]}"
        for k, v in parse_qs(parts.query, keep_blank_values=True).items()
    )
    return parts._replace(netloc=netloc, query=query).geturl()
