"""What every part of the queue shares: the Redis client, its scripts, the value types.

``QueueCore`` holds the client and the settings, registers the Lua scripts
(handoff/queue/lua/*.lua) once, and builds their ARGV. The concerns
(tickets, claims, transcripts, REST customers, events) are mixins over it,
composed into ``HandoffQueue`` in handoff/queue/__init__.py.
"""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Type, TypeVar

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from core import keys, lua
from core.redis_url import RedisSettings
from handoff.exceptions import BY_CODE, HandoffError, QueueUnavailable

PRIORITIES: Tuple[str, ...] = ("P0", "P1", "P2")
CLASS_SPAN = 10**13
#: a closed ticket's life (or the retention, if shorter)
TICKET_TTL_SECONDS = 7 * 24 * 3600
#: KEFU_RETENTION_DAYS default: tickets, transcripts and REST outboxes expire this
#: long after their last write (personal data is not kept forever)
RETENTION_SECONDS = 30 * 24 * 3600
EVENTS_MAXLEN = 10000
CUSTOMER_OUT_MAXLEN = 1000
DEFAULT_HANDLE_MS = 5 * 60 * 1000

#: ticket reason -> priority class (SERVICE_GUIDE: safety first, then upset customers)
REASON_PRIORITY: Dict[str, str] = {
    "safety": "P0",
    "anger": "P1",
    "urgent": "P1",
    "low_rating": "P1",
}

#: the scripts that start with lua/prelude.lua (ARGV[1] prefix, ARGV[2] now, last ARGV retention)
QUEUE_SCRIPTS: Tuple[str, ...] = (
    "escalate", "claim", "claim_next", "renew", "renew_held", "eligible", "reap", "transfer", "close", "append", "bump",
)
#: the scripts that stand alone (their own KEYS and ARGV)
PLAIN_SCRIPTS: Tuple[str, ...] = ("issue_token",)

T = TypeVar("T")
Q = TypeVar("Q", bound="QueueCore")


def now_ms() -> int:
    return int(time.time() * 1000)


def priority_for(reason: str, sentiment: str = "") -> str:
    """P0 safety; P1 angry, urgent, frightened or low rating; P2 everything else.

    A frightened customer (sentiment ``fear``: 我好害怕) is not calm: a person
    sees them before routine questions even when no danger was named."""
    if reason in REASON_PRIORITY:
        return REASON_PRIORITY[reason]
    if sentiment in ("angry", "urgent", "fear"):
        return "P1"
    return "P2"


def redis_errors(func: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    """Translate Redis failures to QueueUnavailable and Lua error codes to ours."""

    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return await func(*args, **kwargs)
        except HandoffError:
            raise
        except (RedisError, OSError) as exc:
            raise QueueUnavailable() from exc

    return wrapper



def raise_for(result: Sequence[Any]) -> None:
    """A script's ``{'err', code}`` as the HandoffError of that code."""
    if result and result[0] == "err":
        code = str(result[1])
        raise BY_CODE.get(code, HandoffError)()


@dataclass(frozen=True)
class Message:
    """One line of a transcript as stored: raw text plus its masked form."""

    role: str
    text: str
    masked: str
    ts: int
    agent_name: str = ""
    id: str = ""

    def for_agent(self) -> Dict[str, Any]:
        return {"id": self.id, "role": self.role, "text": self.masked, "ts": self.ts, "agent_name": self.agent_name}


@dataclass
class NewTicket:
    """What the bot side knows when it escalates."""

    sender: str
    channel: str
    reason: str
    priority: str
    summary: str
    intents: List[str] = field(default_factory=list)
    order_ref: str = ""
    order_type: str = ""
    sentiment: str = ""
    transcript: List[Message] = field(default_factory=list)
    escalation_id: str = ""
    traditional: bool = False


@dataclass(frozen=True)
class Claim:
    ticket_id: str
    seq: int


class QueueCore:
    """The client, the settings and the registered scripts. Construct freely: nothing connects until first use."""

    def __init__(
        self,
        client: "aioredis.Redis",
        *,
        lease_seconds: int = 30,
        max_chats: int = 3,
        online_seconds: int = 60,
        sla_seconds: Optional[Mapping[str, int]] = None,
        retention_seconds: int = RETENTION_SECONDS,
        clock: Callable[[], int] = now_ms,
        wait_replicas: int = 0,
        wait_ms: int = 1000,
    ) -> None:
        self.redis = client
        #: KEFU_REDIS_WAIT_REPLICAS: an escalation is acknowledged only once this many replicas have it
        self.wait_replicas = wait_replicas
        self.wait_ms = wait_ms
        self.retention_seconds = retention_seconds
        #: a closed ticket goes after 7 days, or sooner when the retention is shorter
        self.closed_ttl = min(TICKET_TTL_SECONDS, retention_seconds)
        self.lease_ms = lease_seconds * 1000
        self.max_chats = max_chats
        self.online_ms = online_seconds * 1000
        self.sla_ms = {k: v * 1000 for k, v in (sla_seconds or {"P0": 60, "P1": 300, "P2": 900}).items()}
        self.clock = clock
        self.scripts: Dict[str, AsyncScript] = {
            **{name: client.register_script(lua.source(__file__, name, prelude="prelude")) for name in QUEUE_SCRIPTS},
            **{name: client.register_script(lua.source(__file__, name)) for name in PLAIN_SCRIPTS},
        }

    @classmethod
    def from_url(cls: Type[Q], url: str, **kwargs: Any) -> Q:
        # TLS, ACL user, Sentinel: the same parser as every other client (core/redis_url.py)
        client = RedisSettings.parse(url).async_client(
            decode_responses=True, socket_connect_timeout=2, socket_timeout=5, health_check_interval=10
        )
        return cls(client, **kwargs)

    async def close(self) -> None:
        await self.redis.close()

    def _argv(self, *extra: object) -> List[str]:
        return [keys.PREFIX, str(self.clock()), *(str(e) for e in extra), str(self.retention_seconds)]

    async def _run(self, script: str, *extra: object) -> Any:
        """Run a prelude script with ARGV = prefix, now, ``extra``…, retention."""
        return await self.scripts[script](args=self._argv(*extra))

    def _cutoff(self) -> int:
        """Agents seen since this ms count as online."""
        return self.clock() - self.online_ms

    @redis_errors
    async def ping(self) -> bool:
        return bool(await self.redis.ping())
