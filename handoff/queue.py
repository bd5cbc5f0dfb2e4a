"""The handoff queue: tickets, claims, leases and transcripts in Redis.

Only this module talks to Redis for the bridge. Every check-then-write is
one Lua script, so two agents can never hold the same ticket and a crash
between two writes cannot leave a ticket half-moved.

Ordering: a waiting ticket sits in one sorted set with score
``class * 1e13 + enqueue ms`` (P0 = class 0 first, FIFO inside a class; the
enqueue ms is made strictly increasing in Lua, so same-millisecond arrivals
never tie and fall back to ticket-id order). The
score is kept on the ticket, so a ticket whose lease expired, or that was
transferred, goes back to its *old* place, not the end of the line.
"""
from __future__ import annotations

import functools
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, TypeVar

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from core.redis_url import RedisSettings
from core import keys
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

T = TypeVar("T")


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


def _redis_errors(func: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
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


def _raise_for(result: Sequence[Any]) -> None:
    if result and result[0] == "err":
        code = str(result[1])
        raise BY_CODE.get(code, HandoffError)()


# --------------------------------------------------------------------------
# Lua. Every script gets ARGV[1] = key prefix, ARGV[2] = now (ms) and, as
# its last ARGV, the retention (seconds): every write to a ticket, its
# transcript or its conversation pointer sets that key's expiry.

_PRELUDE = """
local P = ARGV[1]
local NOW = tonumber(ARGV[2])
local RETAIN = tonumber(ARGV[#ARGV])
local function retain(key) redis.call('EXPIRE', key, RETAIN) end
local function tkey(id) return P .. 'ticket:' .. id end
local function audit(action, tid, who, detail)
  redis.call('XADD', P .. 'audit', '*', 'action', action, 'ticket_id', tid,
             'by', who, 'at', ARGV[2], 'detail', detail or '')
end
local function event(kind, tid, owner, data)
  return redis.call('XADD', P .. 'events', 'MAXLEN', '~', '10000', '*', 'type', kind,
                    'ticket_id', tid, 'owner', owner or '', 'data', data or '')
end
local function has_skill(csv, skill)
  return string.find(',' .. csv .. ',', ',' .. skill .. ',', 1, true) ~= nil
end
local function eligible(tid, agent, skills, cutoff)
  local r = redis.call('HMGET', tkey(tid), 'reserved_for', 'required_skill')
  local reserved, skill = r[1], r[2]
  if reserved and reserved ~= '' and reserved ~= agent then
    local seen = redis.call('ZSCORE', P .. 'online', reserved)
    if seen and tonumber(seen) >= cutoff then return false end
  end
  if skill and skill ~= '' and not has_skill(skills, skill) then
    if redis.call('ZCOUNT', P .. 'online_skill:' .. skill, cutoff, '+inf') > 0 then return false end
  end
  return true
end
local function take(tid, agent, name, lease_ms)
  local k = tkey(tid)
  -- confirmed = 0 until the console shows it has the chat (renew / read by its holder):
  -- a claim whose reply was lost is not renewed by the WebSocket and goes back to its place
  redis.call('HSET', k, 'state', 'active', 'owner', agent, 'owner_name', name,
             'claimed_ms', ARGV[2], 'reserved_for', '', 'expired_owner', '', 'confirmed', '0')
  redis.call('ZREM', P .. 'queue', tid)
  redis.call('ZADD', P .. 'leases', NOW + lease_ms, tid)
  redis.call('SADD', P .. 'agent_chats:' .. agent, tid)
  local sender = redis.call('HGET', k, 'sender')
  redis.call('SET', P .. 'conv:' .. sender, 'active:' .. tid, 'EX', RETAIN)
  local seq = redis.call('INCR', P .. 'claim_seq')
  redis.call('HSET', k, 'claim_seq', seq)
  retain(k)
  audit('claim', tid, agent, '')
  event('ticket', tid, agent, 'claimed')
  return tostring(seq)
end
-- nil when `agent` holds `tid`, else an error code
local function owner_error(tid, agent)
  local r = redis.call('HMGET', tkey(tid), 'state', 'owner', 'expired_owner')
  if not r[1] then return 'ticket_not_found' end
  if r[1] == 'closed' then return 'ticket_closed' end
  if r[1] == 'active' and r[2] == agent then return nil end
  if r[1] == 'waiting' and r[3] == agent then return 'lease_expired' end
  return 'not_owner'
end
"""

_ESCALATE = _PRELUDE + """
local f = cjson.decode(ARGV[3])
local transcript = cjson.decode(ARGV[4])
local eid = ARGV[5]
if eid ~= '' then
  local existing = redis.call('GET', P .. 'escalation:' .. eid)
  if existing then return {'dup', existing} end
end
local conv = P .. 'conv:' .. f.sender
local cur = redis.call('GET', conv)
if cur then
  local tid = string.sub(cur, string.find(cur, ':', 1, true) + 1)
  if redis.call('EXISTS', tkey(tid)) == 1 then return {'dup', tid} end
end
local k = tkey(f.id)
-- Enqueue order: strictly increasing across tickets, so two escalations in the
-- same millisecond still keep their arrival order (a tie would fall back to
-- the random ticket id).
local last = tonumber(redis.call('GET', P .. 'enqueue_ms') or '0')
local enq = math.max(NOW, last + 1)
redis.call('SET', P .. 'enqueue_ms', string.format('%.0f', enq))
f.enqueue_ms = string.format('%.0f', enq)
f.score = string.format('%.0f', tonumber(f.klass) * 1e13 + enq)
for name, value in pairs(f) do redis.call('HSET', k, name, tostring(value)) end
redis.call('HSET', k, 'state', 'waiting', 'owner', '', 'owner_name', '')
retain(k)
for _, m in ipairs(transcript) do
  redis.call('XADD', P .. 'transcript:' .. f.sender, '*', 'role', m.role, 'text', m.text,
             'masked', m.masked, 'ts', tostring(m.ts), 'agent_name', m.agent_name or '')
end
if #transcript > 0 then retain(P .. 'transcript:' .. f.sender) end
redis.call('ZADD', P .. 'queue', f.score, f.id)
redis.call('SET', conv, 'waiting:' .. f.id, 'EX', RETAIN)
if eid ~= '' then redis.call('SET', P .. 'escalation:' .. eid, f.id, 'EX', 604800) end
audit('escalate', f.id, 'bot', f.reason)
event('queue', f.id, '', 'escalated')
return {'ok', f.id}
"""

_CLAIM = _PRELUDE + """
local tid, agent, name, skills = ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local lease_ms, max_chats, cutoff = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local r = redis.call('HMGET', tkey(tid), 'state', 'owner', 'claim_seq')
if not r[1] then return {'err', 'ticket_not_found'} end
if r[1] == 'closed' then return {'err', 'ticket_closed'} end
if r[1] == 'active' then
  if r[2] == agent then return {'ok', tid, r[3]} end
  return {'err', 'already_claimed'}
end
if redis.call('SCARD', P .. 'agent_chats:' .. agent) >= max_chats then return {'err', 'capacity_reached'} end
if not eligible(tid, agent, skills, cutoff) then return {'err', 'not_eligible'} end
return {'ok', tid, take(tid, agent, name, lease_ms)}
"""

_CLAIM_NEXT = _PRELUDE + """
local agent, name, skills = ARGV[3], ARGV[4], ARGV[5]
local lease_ms, max_chats, cutoff = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
if redis.call('SCARD', P .. 'agent_chats:' .. agent) >= max_chats then return {'err', 'capacity_reached'} end
local offset = 0
while true do
  local ids = redis.call('ZRANGE', P .. 'queue', offset, offset + 99)
  if #ids == 0 then return {'err', 'queue_empty'} end
  local gone = 0
  for _, tid in ipairs(ids) do
    if redis.call('EXISTS', tkey(tid)) == 0 then
      redis.call('ZREM', P .. 'queue', tid)  -- expired after the retention: not a ticket any more
      gone = gone + 1
    elseif eligible(tid, agent, skills, cutoff) then
      return {'ok', tid, take(tid, agent, name, lease_ms)}
    end
  end
  offset = offset + 100 - gone
end
"""

_RENEW = _PRELUDE + """
local tid, agent, lease_ms = ARGV[3], ARGV[4], tonumber(ARGV[5])
local err = owner_error(tid, agent)
if err then return {'err', err} end
redis.call('ZADD', P .. 'leases', NOW + lease_ms, tid)
redis.call('HSET', tkey(tid), 'confirmed', '1')
return {'ok', tid}
"""

# Renew what the agent holds and has confirmed (the WebSocket's heartbeat):
# an unconfirmed claim is left to expire back to its old place.
_RENEW_HELD = _PRELUDE + """
local agent, lease_ms = ARGV[3], tonumber(ARGV[4])
local out = {}
for _, tid in ipairs(redis.call('SMEMBERS', P .. 'agent_chats:' .. agent)) do
  if not owner_error(tid, agent) and redis.call('HGET', tkey(tid), 'confirmed') ~= '0' then
    redis.call('ZADD', P .. 'leases', NOW + lease_ms, tid)
    table.insert(out, tid)
  end
end
return out
"""

# '1' / '0' per ticket id (ARGV[6..]): may this agent claim it now (the claim's own rule)
_ELIGIBLE = _PRELUDE + """
local agent, skills, cutoff = ARGV[3], ARGV[4], tonumber(ARGV[5])
local out = {}
for i = 6, #ARGV - 1 do
  table.insert(out, eligible(ARGV[i], agent, skills, cutoff) and '1' or '0')
end
return out
"""

_REAP = _PRELUDE + """
local ids = redis.call('ZRANGEBYSCORE', P .. 'leases', '-inf', NOW, 'LIMIT', 0, tonumber(ARGV[3]))
local back = {}
for _, tid in ipairs(ids) do
  redis.call('ZREM', P .. 'leases', tid)
  local k = tkey(tid)
  local r = redis.call('HMGET', k, 'state', 'owner', 'score', 'sender')
  if r[1] == 'active' then
    redis.call('HSET', k, 'state', 'waiting', 'owner', '', 'owner_name', '', 'last_owner', r[2],
               'expired_owner', r[2])
    retain(k)
    redis.call('ZADD', P .. 'queue', r[3], tid)
    redis.call('SREM', P .. 'agent_chats:' .. r[2], tid)
    redis.call('SET', P .. 'conv:' .. r[4], 'waiting:' .. tid, 'EX', RETAIN)
    audit('lease_expired', tid, r[2], '')
    event('queue', tid, r[2], 'lease_expired')
    table.insert(back, tid)
  end
end
return back
"""

_TRANSFER = _PRELUDE + """
local tid, agent, to_agent, skill = ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local err = owner_error(tid, agent)
if err then return {'err', err} end
local k = tkey(tid)
local r = redis.call('HMGET', k, 'score', 'sender')
redis.call('HSET', k, 'state', 'waiting', 'owner', '', 'owner_name', '', 'last_owner', agent,
           'reserved_for', to_agent)
if skill ~= '' then redis.call('HSET', k, 'required_skill', skill) end
retain(k)
redis.call('ZADD', P .. 'queue', r[1], tid)
redis.call('ZREM', P .. 'leases', tid)
redis.call('SREM', P .. 'agent_chats:' .. agent, tid)
redis.call('SET', P .. 'conv:' .. r[2], 'waiting:' .. tid, 'EX', RETAIN)
audit('transfer', tid, agent, 'to_agent=' .. to_agent .. ';skill=' .. skill)
event('queue', tid, to_agent, 'transferred')
return {'ok', r[2]}
"""

_CLOSE = _PRELUDE + """
local tid, actor, outcome, need = ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local k = tkey(tid)
local r = redis.call('HMGET', k, 'state', 'owner', 'claimed_ms', 'sender')
if not r[1] then return {'err', 'ticket_not_found'} end
if r[1] == 'closed' then return {'err', 'ticket_closed'} end
if need == 'owner' then
  local err = owner_error(tid, actor)
  if err then return {'err', err} end
end
redis.call('HSET', k, 'state', 'closed', 'outcome', outcome, 'closed_ms', ARGV[2],
           'owner', '', 'last_owner', r[2] or '')
redis.call('ZREM', P .. 'queue', tid)
redis.call('ZREM', P .. 'leases', tid)
if r[2] and r[2] ~= '' then redis.call('SREM', P .. 'agent_chats:' .. r[2], tid) end
local conv = P .. 'conv:' .. r[4]
local cur = redis.call('GET', conv)
if cur and string.sub(cur, -string.len(tid)) == tid then redis.call('DEL', conv) end
if r[1] == 'active' and r[3] and r[3] ~= '' then
  redis.call('LPUSH', P .. 'handle_ms', NOW - tonumber(r[3]))
  redis.call('LTRIM', P .. 'handle_ms', 0, 49)
end
redis.call('EXPIRE', k, tonumber(ARGV[7]))
audit('close', tid, actor, outcome)
event('queue', tid, r[2] or '', outcome)
return {'ok', r[4], r[2] or '', r[1]}
"""

_APPEND = _PRELUDE + """
local sender, role, text, masked, agent_name = ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local id = redis.call('XADD', P .. 'transcript:' .. sender, '*', 'role', role, 'text', text,
                      'masked', masked, 'ts', ARGV[2], 'agent_name', agent_name)
retain(P .. 'transcript:' .. sender)
local cur = redis.call('GET', P .. 'conv:' .. sender)
local tid, owner = '', ''
if cur then
  tid = string.sub(cur, string.find(cur, ':', 1, true) + 1)
  retain(P .. 'conv:' .. sender)  -- an open chat stays as long as it is written to
  if redis.call('EXISTS', tkey(tid)) == 1 then retain(tkey(tid)) end
  owner = redis.call('HGET', tkey(tid), 'owner') or ''
  if owner ~= '' then
    event('message', tid, owner, cjson.encode({id = id, role = role, text = masked,
          ts = NOW, agent_name = agent_name}))
  end
end
return {id, tid, owner}
"""

_BUMP = _PRELUDE + """
local tid, klass, priority, skill = ARGV[3], tonumber(ARGV[4]), ARGV[5], ARGV[6]
local k = tkey(tid)
local r = redis.call('HMGET', k, 'state', 'klass', 'enqueue_ms', 'owner', 'created_ms')
if not r[1] then return {'err', 'ticket_not_found'} end
if r[1] == 'closed' then return {'err', 'ticket_closed'} end
if klass >= tonumber(r[2]) then return {'ok', 'unchanged'} end
local score = string.format('%.0f', klass * 1e13 + tonumber(r[3] or r[5]))
redis.call('HSET', k, 'klass', tostring(klass), 'priority', priority, 'score', score)
retain(k)
if skill ~= '' then redis.call('HSET', k, 'required_skill', skill) end
if r[1] == 'waiting' then redis.call('ZADD', P .. 'queue', score, tid) end
audit('bump', tid, 'bot', priority)
event('queue', tid, r[4] or '', 'bumped')
return {'ok', 'bumped'}
"""


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


#: KEYS: token hash, customer outbox; ARGV: token sha256, ttl. The token's view
#: starts after the outbox's newest message, read and written in one step.
_ISSUE_TOKEN_LUA = """
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then redis.call('DEL', KEYS[1]) end
local newest = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
local start = '0'
if newest[1] then start = newest[1][1] end
redis.call('HSET', KEYS[1], ARGV[1], start)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
return start
"""


def _stream_position(stream_id: str) -> Tuple[int, int]:
    """'1700000000000-3' → (1700000000000, 3); '0', '' or '-' → (0, 0)."""
    ms, _, seq = (stream_id or "0").partition("-")
    return (int(ms), int(seq or 0)) if ms.isdigit() else (0, 0)


class HandoffQueue:
    """Tickets in Redis. Construct freely: nothing connects until first use."""

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
        self._escalate = client.register_script(_ESCALATE)
        self._claim = client.register_script(_CLAIM)
        self._claim_next = client.register_script(_CLAIM_NEXT)
        self._renew = client.register_script(_RENEW)
        self._renew_held = client.register_script(_RENEW_HELD)
        self._eligible = client.register_script(_ELIGIBLE)
        self._reap = client.register_script(_REAP)
        self._transfer = client.register_script(_TRANSFER)
        self._close = client.register_script(_CLOSE)
        self._append = client.register_script(_APPEND)
        self._bump = client.register_script(_BUMP)

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> "HandoffQueue":
        # TLS, ACL user, Sentinel: the same parser as every other client (core/redis_url.py)
        client = RedisSettings.parse(url).async_client(
            decode_responses=True, socket_connect_timeout=2, socket_timeout=5, health_check_interval=10
        )
        return cls(client, **kwargs)

    async def close(self) -> None:
        await self.redis.close()

    def _argv(self, *extra: object) -> List[str]:
        return [keys.PREFIX, str(self.clock()), *(str(e) for e in extra), str(self.retention_seconds)]

    @_redis_errors
    async def ping(self) -> bool:
        return bool(await self.redis.ping())

    # ---- bot side ---------------------------------------------------------

    @_redis_errors
    async def escalate(self, new: NewTicket) -> Tuple[str, bool]:
        """Put a conversation in the queue: (ticket id, created).

        Idempotent per escalation id and per conversation: a conversation
        already waiting or with an agent keeps its ticket (and is bumped if
        the new reason is more urgent).
        """
        if new.priority not in PRIORITIES:
            raise ValueError(f"unknown priority {new.priority!r}")
        now = self.clock()
        klass = PRIORITIES.index(new.priority)
        ticket_id = secrets.token_hex(8)
        fields: Dict[str, Any] = {
            "id": ticket_id,
            "sender": new.sender,
            "channel": new.channel,
            "priority": new.priority,
            "klass": klass,
            "reason": new.reason,
            "summary": new.summary,
            "intents": json.dumps(new.intents, ensure_ascii=False),
            "order_ref": new.order_ref,
            "order_type": new.order_type,
            "sentiment": new.sentiment,
            "created_ms": now,
            "sla_deadline_ms": now + self.sla_ms[new.priority],
            "score": klass * CLASS_SPAN + now,
            "required_skill": "safety" if new.priority == "P0" else "",
            "reserved_for": "",
            "escalation_id": new.escalation_id,
            "traditional": "1" if new.traditional else "0",
        }
        transcript = [
            {"role": m.role, "text": m.text, "masked": m.masked, "ts": str(m.ts), "agent_name": m.agent_name}
            for m in new.transcript
        ]
        result = await self._escalate(
            args=[keys.PREFIX, str(now), json.dumps({k: str(v) for k, v in fields.items()}, ensure_ascii=False),
                  json.dumps(transcript, ensure_ascii=False), new.escalation_id, str(self.retention_seconds)]
        )
        tid = str(result[1])
        if result[0] == "dup":
            await self.bump(tid, new.priority)
        await self._replicated()
        return tid, result[0] != "dup"

    async def _replicated(self) -> None:
        """WAIT for ``wait_replicas`` replicas; QueueUnavailable (503) when fewer confirm in time.

        Why: Redis replicates asynchronously, so a master that dies right after
        answering can take an acknowledged ticket with it when a replica is
        promoted. Refused here, the escalation stays in the caller's durable
        outbox and is sent again (idempotent by escalation id) until a replica has it.
        """
        if self.wait_replicas <= 0:
            return
        confirmed = int(await self.redis.execute_command("WAIT", self.wait_replicas, self.wait_ms))
        if confirmed < self.wait_replicas:
            raise QueueUnavailable(f"只有 {confirmed} 个副本确认 (replicas confirmed: {confirmed}/{self.wait_replicas})")

    @_redis_errors
    async def bump(self, ticket_id: str, priority: str) -> bool:
        """Raise a ticket to a more urgent class, keeping its enqueue time."""
        klass = PRIORITIES.index(priority)
        result = await self._bump(args=self._argv(ticket_id, klass, priority, "safety" if klass == 0 else ""))
        _raise_for(result)
        return bool(result[1] == "bumped")

    @_redis_errors
    async def conversation_state(self, sender: str) -> Optional[Tuple[str, str]]:
        """(state, ticket id) when the conversation is in handoff: one GET."""
        raw = await self.redis.get(keys.conversation(sender))
        if not raw:
            return None
        state, _, tid = str(raw).partition(":")
        return state, tid

    @_redis_errors
    async def leave(self, ticket_id: str, actor: str = "customer") -> str:
        """The customer no longer wants a person (不用了): ticket closed."""
        result = await self._close(args=self._argv(ticket_id, actor, "left", "any", self.closed_ttl))
        _raise_for(result)
        return str(result[1])

    @_redis_errors
    async def position(self, ticket_id: str) -> Optional[int]:
        rank = await self.redis.zrank(keys.QUEUE, ticket_id)
        return None if rank is None else int(rank) + 1

    @_redis_errors
    async def estimated_wait_minutes(self, position: int) -> int:
        """From the recent handling times and the agents online now."""
        raw = await self.redis.lrange(keys.HANDLE_TIMES, 0, 49)
        times = [int(x) for x in raw]
        average = sum(times) / len(times) if times else DEFAULT_HANDLE_MS
        online = await self.redis.zcount(keys.ONLINE, self.clock() - self.online_ms, "+inf")
        capacity = max(1, int(online) * self.max_chats)
        return max(1, int(-(-(position * average / capacity) // 60000)))

    # ---- agents -----------------------------------------------------------

    @_redis_errors
    async def touch_agent(self, agent_id: str, skills: Sequence[str]) -> None:
        """Mark an agent online now (their skills count for routing)."""
        now = self.clock()
        pipe = self.redis.pipeline(transaction=True)
        pipe.zadd(keys.ONLINE, {agent_id: now})
        for skill in skills:
            pipe.zadd(keys.online_skill(skill), {agent_id: now})
        await pipe.execute()

    @_redis_errors
    async def set_offline(self, agent_id: str, skills: Sequence[str]) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.zrem(keys.ONLINE, agent_id)
        for skill in skills:
            pipe.zrem(keys.online_skill(skill), agent_id)
        await pipe.execute()

    def _cutoff(self) -> int:
        return self.clock() - self.online_ms

    @_redis_errors
    async def claim(self, ticket_id: str, agent_id: str, agent_name: str, skills: Sequence[str]) -> Claim:
        result = await self._claim(
            args=self._argv(ticket_id, agent_id, agent_name, ",".join(skills), self.lease_ms, self.max_chats, self._cutoff())
        )
        _raise_for(result)
        return Claim(str(result[1]), int(result[2] or 0))

    @_redis_errors
    async def claim_next(self, agent_id: str, agent_name: str, skills: Sequence[str]) -> Claim:
        """The first waiting ticket this agent may take, in queue order."""
        result = await self._claim_next(
            args=self._argv(agent_id, agent_name, ",".join(skills), self.lease_ms, self.max_chats, self._cutoff())
        )
        _raise_for(result)
        return Claim(str(result[1]), int(result[2]))

    @_redis_errors
    async def renew(self, ticket_id: str, agent_id: str) -> None:
        _raise_for(await self._renew(args=self._argv(ticket_id, agent_id, self.lease_ms)))

    @_redis_errors
    async def renew_all(self, agent_id: str) -> List[str]:
        """Renew every lease the agent holds and has confirmed (their console is connected)."""
        return [str(t) for t in await self._renew_held(args=self._argv(agent_id, self.lease_ms))]

    @_redis_errors
    async def eligible(self, agent_id: str, skills: Sequence[str], ticket_ids: Sequence[str]) -> Dict[str, bool]:
        """Which of these waiting tickets the agent may claim now (same rule as the claim)."""
        if not ticket_ids:
            return {}
        flags = await self._eligible(args=self._argv(agent_id, ",".join(skills), self._cutoff(), *ticket_ids))
        return {tid: flag == "1" for tid, flag in zip(ticket_ids, flags)}

    @_redis_errors
    async def reap(self, limit: int = 100) -> List[str]:
        """Return tickets whose lease ran out to their old place in the queue."""
        return [str(t) for t in await self._reap(args=self._argv(limit))]

    @_redis_errors
    async def transfer(self, ticket_id: str, agent_id: str, to_agent: str = "", skill: str = "") -> str:
        result = await self._transfer(args=self._argv(ticket_id, agent_id, to_agent, skill))
        _raise_for(result)
        return str(result[1])

    @_redis_errors
    async def resolve(self, ticket_id: str, agent_id: str, outcome: str = "resolved") -> str:
        """Close a ticket the agent holds (resolved or handback): the sender."""
        result = await self._close(args=self._argv(ticket_id, agent_id, outcome, "owner", self.closed_ttl))
        _raise_for(result)
        return str(result[1])

    @_redis_errors
    async def require_owner(self, ticket_id: str, agent_id: str) -> Dict[str, str]:
        """The ticket's fields when ``agent_id`` holds it; raises otherwise."""
        ticket = await self.ticket(ticket_id)
        if ticket["state"] == "closed":
            raise BY_CODE["ticket_closed"]()
        if ticket["state"] == "active" and ticket.get("owner") == agent_id:
            return ticket
        if ticket["state"] == "waiting" and ticket.get("expired_owner") == agent_id:
            raise BY_CODE["lease_expired"]()
        raise BY_CODE["not_owner"]()

    # ---- reading ------------------------------------------------------------

    @_redis_errors
    async def ticket(self, ticket_id: str) -> Dict[str, str]:
        data = await self.redis.hgetall(keys.ticket(ticket_id))
        if not data:
            raise BY_CODE["ticket_not_found"]()
        return {str(k): str(v) for k, v in data.items()}

    @_redis_errors
    async def waiting(self, limit: int = 200) -> List[Dict[str, str]]:
        ids = await self.redis.zrange(keys.QUEUE, 0, limit - 1)
        return await self._tickets(ids)

    @_redis_errors
    async def agent_tickets(self, agent_id: str) -> List[Dict[str, str]]:
        ids = sorted(await self.redis.smembers(keys.agent_chats(agent_id)))
        return await self._tickets(ids)

    async def _tickets(self, ids: Sequence[str]) -> List[Dict[str, str]]:
        pipe = self.redis.pipeline(transaction=False)
        for tid in ids:
            pipe.hgetall(keys.ticket(tid))
        rows = await pipe.execute()
        return [{str(k): str(v) for k, v in row.items()} for row in rows if row]

    # ---- transcripts ----------------------------------------------------------

    @_redis_errors
    async def append(self, sender: str, role: str, text: str, masked: str, agent_name: str = "") -> Tuple[str, str, str]:
        """Add a message to the conversation's transcript: (message id, ticket id, owner).

        The agent holding the ticket gets it as a live event.
        """
        result = await self._append(args=self._argv(sender, role, text, masked, agent_name))
        return str(result[0]), str(result[1]), str(result[2])

    @_redis_errors
    async def transcript(self, sender: str, after: str = "-", count: int = 1000) -> List[Message]:
        start = "-" if after in ("", "-", "0") else f"({after}"
        rows = await self.redis.xrange(keys.transcript(sender), min=start, max="+", count=count)
        return [
            Message(
                role=str(f.get("role", "")), text=str(f.get("text", "")), masked=str(f.get("masked", "")),
                ts=int(f.get("ts", 0) or 0), agent_name=str(f.get("agent_name", "")), id=str(mid),
            )
            for mid, f in rows
        ]

    @_redis_errors
    async def message(self, sender: str, message_id: str) -> Optional[Message]:
        rows = await self.redis.xrange(keys.transcript(sender), min=message_id, max=message_id, count=1)
        for mid, f in rows:
            return Message(str(f["role"]), str(f["text"]), str(f["masked"]), int(f["ts"]), str(f.get("agent_name", "")), str(mid))
        return None

    # ---- REST customers -----------------------------------------------------------

    @_redis_errors
    async def set_customer_token(self, sender: str, token_sha256: str) -> None:
        """Add a poll token that sees only the messages queued after now.

        One token per escalation, kept side by side: a second 转人工 with the
        same sender (the customer after a reload, or someone who learnt the
        id) gets a token of its own that cannot read what the agent wrote
        before, and the first token keeps working.
        """
        await self.redis.eval(_ISSUE_TOKEN_LUA, 2, keys.customer_token(sender), keys.customer_outbox(sender),
                              token_sha256, self.closed_ttl)

    @_redis_errors
    async def customer_token_start(self, sender: str, token_sha256: str) -> Optional[str]:
        """The outbox id a token's view starts after, or None for an unknown token."""
        raw = await self.redis.hget(keys.customer_token(sender), token_sha256)
        return str(raw) if raw else None

    @_redis_errors
    async def push_customer(self, sender: str, payload: Mapping[str, Any]) -> str:
        """Queue a message for a REST customer; the stream expires with the retention."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.xadd(keys.customer_outbox(sender), {"data": json.dumps(payload, ensure_ascii=False)},
                  maxlen=CUSTOMER_OUT_MAXLEN, approximate=True)
        pipe.expire(keys.customer_outbox(sender), self.retention_seconds)
        message_id, _ = await pipe.execute()
        return str(message_id)

    @_redis_errors
    async def customer_messages(self, sender: str, after: str = "0", count: int = 100,
                                since: str = "0") -> List[Dict[str, Any]]:
        """Messages queued for a REST customer after `after`, never before `since` (the token's start)."""
        first = max(after, since, key=_stream_position)
        start = "-" if _stream_position(first) == (0, 0) else f"({first}"
        rows = await self.redis.xrange(keys.customer_outbox(sender), min=start, max="+", count=count)
        return [dict(json.loads(f["data"]), id=str(mid)) for mid, f in rows]

    # ---- events and audit -------------------------------------------------------------

    @_redis_errors
    async def publish(self, kind: str, ticket_id: str, owner: str, data: str = "") -> str:
        return str(
            await self.redis.xadd(
                keys.EVENTS, {"type": kind, "ticket_id": ticket_id, "owner": owner, "data": data},
                maxlen=EVENTS_MAXLEN, approximate=True,
            )
        )

    @_redis_errors
    async def events(self, after: str, block_ms: Optional[int] = None, count: int = 500) -> List[Tuple[str, Dict[str, str]]]:
        """Events after ``after`` (an event id, or "0"); waits up to ``block_ms``."""
        if block_ms is None:
            start = "-" if after in ("", "0", "-") else f"({after}"
            rows = await self.redis.xrange(keys.EVENTS, min=start, max="+", count=count)
            return [(str(i), {str(k): str(v) for k, v in f.items()}) for i, f in rows]
        streams = await self.redis.xread({keys.EVENTS: after or "0"}, count=count, block=block_ms)
        out: List[Tuple[str, Dict[str, str]]] = []
        for _name, rows in streams or []:
            out.extend((str(i), {str(k): str(v) for k, v in f.items()}) for i, f in rows)
        return out

    @_redis_errors
    async def typing(self, sender: str, ticket_id: str, typing: bool, throttle_ms: int = 1000) -> bool:
        """A typing event for the agent holding ``ticket_id``, at most one per second and state."""
        if not await self.redis.set(keys.typing(sender, typing), "1", px=throttle_ms, nx=True):
            return False
        owner = await self.redis.hget(keys.ticket(ticket_id), "owner")
        if not owner:
            return False
        await self.publish("typing", ticket_id, str(owner), "1" if typing else "0")
        return True

    @_redis_errors
    async def presence(self, sender: str, ticket_id: str, online: bool, ttl_ms: int = 25000) -> bool:
        """Record the customer's chat page as open or closed; tell the agent when that changes."""
        key = keys.presence(sender)
        if online:
            changed = await self.redis.set(key, "1", px=ttl_ms, get=True) is None
        else:
            changed = int(await self.redis.delete(key)) > 0
        owner = await self.redis.hget(keys.ticket(ticket_id), "owner")
        if changed and owner:
            await self.publish("presence", ticket_id, str(owner), "1" if online else "0")
        return changed

    @_redis_errors
    async def customer_online(self, sender: str) -> bool:
        return bool(await self.redis.exists(keys.presence(sender)))

    @_redis_errors
    async def last_event_id(self) -> str:
        rows = await self.redis.xrevrange(keys.EVENTS, count=1)
        return str(rows[0][0]) if rows else "0"

    @_redis_errors
    async def audit(self, action: str, ticket_id: str, by: str, detail: str = "") -> str:
        return str(
            await self.redis.xadd(
                keys.AUDIT, {"action": action, "ticket_id": ticket_id, "by": by, "at": str(self.clock()), "detail": detail}
            )
        )

    @_redis_errors
    async def audit_log(self, ticket_id: Optional[str] = None, count: int = 10000) -> List[Dict[str, str]]:
        rows = await self.redis.xrange(keys.AUDIT, count=count)
        entries = [dict({str(k): str(v) for k, v in f.items()}, id=str(i)) for i, f in rows]
        return [e for e in entries if ticket_id is None or e.get("ticket_id") == ticket_id]
