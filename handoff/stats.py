"""Supervisor figures, computed from what is in Redis right now.

Sources (all on the bridge's Redis database):

- the waiting queue and ticket hashes (``kefu:handoff:*``): queue length per
  class, SLA breaches, handoffs of the day and how they ended;
- the audit stream: who claimed a ticket, whether it was transferred or its
  lease ran out (first-agent resolution), claim and close times (handling
  time);
- the agents-online sorted set;
- Rasa's tracker store (``kefu:tracker:<sender>``, see endpoints.yml): every
  conversation of the day, its intents, and the ratings ``action_rate``
  recorded.

Definitions (SERVICE_GUIDE "Quality targets"):

- satisfaction average: mean of the 1-5 ratings given today;
- first-contact resolution: conversations of the day that the bot closed
  without a person, plus handoffs the *first* agent closed (resolved or
  handed back, never transferred, no expired lease), over all conversations
  of the day;
- average handling time: first claim to close, for handoffs closed today by
  an agent;
- handoff rate (overall and by intent): of the conversations of the day that had an intent,
  the share that went to a person.
"""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

from core import keys
from handoff.labels import INTENT_LABELS
from handoff.queue import PRIORITIES

#: Rasa's RedisTrackerStore key prefix with ``key_prefix: "kefu"`` (endpoints.yml)
TRACKER_PREFIX = "kefu:tracker:"
#: intents that say nothing about what the customer needs
SMALL_TALK = frozenset({"greet", "goodbye", "thank", "affirm", "deny", "inform", "rate", "out_of_scope", "nlu_fallback"})
AGENT_OUTCOMES = frozenset({"resolved", "handback"})
#: targets from the service manuals (SERVICE_GUIDE.md)
TARGETS = {"satisfaction": 4.5, "first_contact_resolution": 0.85}
SCAN_BATCH = 500


@dataclass(frozen=True)
class Day:
    """One local calendar day as a half-open millisecond range."""

    day: date
    start_ms: int
    end_ms: int

    @classmethod
    def of(cls, day: date) -> "Day":
        tz = datetime.now().astimezone().tzinfo
        start = datetime.combine(day, time.min, tzinfo=tz)
        end = start + timedelta(days=1)
        return cls(day, int(start.timestamp() * 1000), int(end.timestamp() * 1000))

    def __contains__(self, ms: object) -> bool:
        return isinstance(ms, int) and self.start_ms <= ms < self.end_ms


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _ratio(part: float, whole: float) -> Optional[float]:
    return round(part / whole, 4) if whole else None


@dataclass
class Conversation:
    sender: str
    intents: Set[str]
    ratings: List[int]


def conversation_of(sender: str, raw: str, day: Day) -> Optional[Conversation]:
    """A tracker's activity on ``day``: None if the customer wrote nothing that day.

    A rating counts only when ``action_rate`` set it (the slot is also filled
    from the entity the moment the customer answers, which would count twice).
    """
    try:
        events = json.loads(raw).get("events") or []
    except (ValueError, AttributeError):
        return None
    active = False
    intents: Set[str] = set()
    ratings: List[int] = []
    last_action = ""
    for event in events:
        if not isinstance(event, dict):
            continue
        kind = event.get("event")
        ms = int(float(event.get("timestamp") or 0) * 1000)
        if kind == "action":
            last_action = str(event.get("name") or "")
            continue
        if ms not in day:
            continue
        if kind == "user":
            name = str(((event.get("parse_data") or {}).get("intent") or {}).get("name") or "")
            if name.startswith("EXTERNAL_"):
                continue  # the bridge's own triggers, not the customer
            active = True
            if name and name not in SMALL_TALK:
                intents.add(name)
        elif kind == "slot" and event.get("name") == "rating" and last_action == "action_rate":
            value = _int(event.get("value"))
            if 1 <= value <= 5:
                ratings.append(value)
    if not active and not ratings:
        return None
    return Conversation(sender, intents, ratings)


class SupervisorStats:
    """Reads Redis (async client with ``decode_responses=True``)."""

    def __init__(self, redis: Any, sla_ms: Mapping[str, int], online_ms: int) -> None:
        self.redis = redis
        self.sla_ms = sla_ms
        self.online_ms = online_ms

    async def _scan(self, pattern: str) -> List[str]:
        found: List[str] = []
        async for key in self.redis.scan_iter(match=pattern, count=SCAN_BATCH):
            found.append(str(key))
        return found

    async def _hashes(self, names: Sequence[str]) -> List[Dict[str, str]]:
        pipe = self.redis.pipeline(transaction=False)
        for name in names:
            pipe.hgetall(name)
        return [{str(k): str(v) for k, v in row.items()} for row in await pipe.execute() if row]

    async def _strings(self, names: Sequence[str]) -> List[Tuple[str, str]]:
        out: List[Tuple[str, str]] = []
        for start in range(0, len(names), SCAN_BATCH):
            chunk = names[start:start + SCAN_BATCH]
            values = await self.redis.mget(chunk)
            out.extend((name, str(value)) for name, value in zip(chunk, values) if value)
        return out

    async def _audit_by_ticket(self, since_ms: int) -> Dict[str, List[Dict[str, str]]]:
        rows = await self.redis.xrange(keys.AUDIT, min=f"{max(since_ms, 0)}-0", max="+")
        by_ticket: Dict[str, List[Dict[str, str]]] = {}
        for _id, fields in rows:
            entry = {str(k): str(v) for k, v in fields.items()}
            by_ticket.setdefault(entry.get("ticket_id", ""), []).append(entry)
        return by_ticket

    async def figures(self, day: Day, now_ms: int, agent_names: Mapping[str, str],
                      cache: Optional["DayFiguresCache"] = None) -> Dict[str, Any]:
        """The live queue (always fresh) and the day's figures (from ``cache`` when recent)."""
        live = await self.live_figures(day, now_ms, agent_names)
        if cache is None:
            today = await self.day_figures(day, now_ms)
        else:
            today = await cache.get(day, now_ms, lambda: self.day_figures(day, now_ms))
        return {"date": day.day.isoformat(), "generated_at": now_ms, "live": live, "today": today}

    async def live_figures(self, day: Day, now_ms: int, agent_names: Mapping[str, str]) -> Dict[str, Any]:
        live = day.start_ms <= now_ms < day.end_ms
        # ---- live queue ----
        waiting_ids = [str(t) for t in await self.redis.zrange(keys.QUEUE, 0, -1)]
        waiting = await self._hashes([keys.ticket(t) for t in waiting_ids])
        queue = {p: 0 for p in PRIORITIES}
        breached_now = 0
        for ticket in waiting:
            queue[ticket.get("priority", "P2")] = queue.get(ticket.get("priority", "P2"), 0) + 1
            if _int(ticket.get("sla_deadline_ms")) < now_ms:
                breached_now += 1
        online_ids = [str(a) for a in await self.redis.zrangebyscore(keys.ONLINE, now_ms - self.online_ms, "+inf")]
        pipe = self.redis.pipeline(transaction=False)
        for agent_id in online_ids:
            pipe.scard(keys.agent_chats(agent_id))
        chats = await pipe.execute() if online_ids else []
        agents = [{"id": a, "name": agent_names.get(a, a), "chats": int(n)} for a, n in zip(online_ids, chats)]
        return {
            "queue": queue,
            "queue_total": sum(queue.values()),
            "sla_breached_waiting": breached_now if live else 0,
            "agents_online": agents,
        }

    async def day_figures(self, day: Day, now_ms: int) -> Dict[str, Any]:
        """Scans the day's tickets and every tracker: the expensive half, see DayFiguresCache."""
        # ---- the day's handoffs ----
        ticket_keys = await self._scan(keys.TICKET_PREFIX + "*")
        tickets = [t for t in await self._hashes(ticket_keys) if _int(t.get("created_ms")) in day]
        audit = await self._audit_by_ticket(min([_int(t.get("created_ms")) for t in tickets] or [day.start_ms]))
        handoff_senders = {t.get("sender", "") for t in tickets}
        by_priority = {p: 0 for p in PRIORITIES}
        sla_breaches = 0
        first_agent = closed_by_agent = 0
        handle_ms: List[int] = []
        for ticket in tickets:
            tid = ticket.get("id", "")
            by_priority[ticket.get("priority", "P2")] = by_priority.get(ticket.get("priority", "P2"), 0) + 1
            entries = audit.get(tid, [])
            claims = [_int(e.get("at")) for e in entries if e.get("action") == "claim"]
            detours = [e for e in entries if e.get("action") in ("transfer", "lease_expired")]
            first_claim = min(claims) if claims else None
            answered_at = first_claim if first_claim is not None else _int(ticket.get("closed_ms")) or now_ms
            if answered_at > _int(ticket.get("sla_deadline_ms")):
                sla_breaches += 1
            if ticket.get("state") == "closed" and ticket.get("outcome") in AGENT_OUTCOMES and first_claim is not None:
                closed_by_agent += 1
                handle_ms.append(max(0, _int(ticket.get("closed_ms")) - first_claim))
                if len(claims) == 1 and not detours:
                    first_agent += 1

        # ---- the day's conversations (Rasa trackers) ----
        raw = await self._strings(await self._scan(TRACKER_PREFIX + "*"))
        conversations = await asyncio.to_thread(
            lambda: [c for c in (conversation_of(k[len(TRACKER_PREFIX):], v, day) for k, v in raw) if c is not None]
        )
        senders = {c.sender for c in conversations}
        # a handoff whose tracker expired or never existed is still a conversation
        total = len(senders | handoff_senders)
        bot_closed = len(senders - handoff_senders)
        ratings = [r for c in conversations for r in c.ratings]
        agent_ratings = [r for c in conversations if c.sender in handoff_senders for r in c.ratings]
        per_intent: Dict[str, List[int]] = {}
        for conv in conversations:
            for intent in conv.intents:
                counts = per_intent.setdefault(intent, [0, 0])
                counts[0] += 1
                counts[1] += conv.sender in handoff_senders
        for ticket in tickets:  # intents the escalation carried, when the tracker is gone
            if ticket.get("sender") in senders:
                continue
            for intent in set(json.loads(ticket.get("intents") or "[]")) - SMALL_TALK:
                counts = per_intent.setdefault(str(intent), [0, 0])
                counts[0] += 1
                counts[1] += 1
        by_intent = sorted(
            ({"intent": name, "label": INTENT_LABELS.get(name, name), "conversations": n, "handoffs": h,
              "rate": _ratio(h, n)} for name, (n, h) in per_intent.items()),
            key=lambda row: (-row["conversations"], row["intent"]),
        )
        return {
            "computed_at": now_ms,
            "conversations": total,
            "handoffs": len(tickets),
            "handoffs_by_priority": by_priority,
            "handoff_rate": _ratio(len(handoff_senders), total),
            "sla_breaches": sla_breaches,
            "satisfaction": {
                "average": round(sum(ratings) / len(ratings), 2) if ratings else None,
                "count": len(ratings),
                "distribution": {str(s): ratings.count(s) for s in range(1, 6)},
                "with_agent_average": round(sum(agent_ratings) / len(agent_ratings), 2) if agent_ratings else None,
                "target": TARGETS["satisfaction"],
            },
            "first_contact_resolution": {
                "rate": _ratio(bot_closed + first_agent, total),
                "bot_closed": bot_closed,
                "bot_rate": _ratio(bot_closed, total),
                "first_agent": first_agent,
                "closed_by_agent": closed_by_agent,
                "first_agent_rate": _ratio(first_agent, closed_by_agent),
                "target": TARGETS["first_contact_resolution"],
            },
            "average_handling_seconds": round(sum(handle_ms) / len(handle_ms) / 1000, 1) if handle_ms else None,
            "handoff_rate_by_intent": by_intent,
        }


class DayFiguresCache:
    """The day's figures, shared by every supervisor's page for ``ttl_ms``.

    Each open supervisor page polls every 5 s, and the day's figures scan every
    ticket and tracker in Redis. With the cache, any number of pages costs one
    scan per ``ttl_ms`` per day shown, and a scan already running is awaited
    rather than started twice. The live queue and agents are never cached.
    """

    def __init__(self, ttl_ms: int = 10_000) -> None:
        self.ttl_ms = ttl_ms
        self.scans = 0
        self._entries: Dict[date, Tuple[int, Dict[str, Any]]] = {}
        self._lock = asyncio.Lock()

    async def get(self, day: Day, now_ms: int,
                  compute: "Callable[[], Awaitable[Dict[str, Any]]]") -> Dict[str, Any]:
        async with self._lock:
            found = self._entries.get(day.day)
            if found is not None and 0 <= now_ms - found[0] < self.ttl_ms:
                return found[1]
            figures = await compute()
            self.scans += 1
            self._entries = {d: e for d, e in self._entries.items() if 0 <= now_ms - e[0] < self.ttl_ms}
            self._entries[day.day] = (now_ms, figures)
            return figures


def parse_day(raw: Optional[str], today: date) -> date:
    """``YYYY-MM-DD`` (at most a year back, not in the future); ValueError otherwise."""
    if raw is None or raw == "":
        return today
    if len(raw) != 10:
        raise ValueError("date 应为 YYYY-MM-DD")
    value = date.fromisoformat(raw)
    if value > today or value < today - timedelta(days=366):
        raise ValueError("date 只能是今天或过去一年内的日期")
    return value


def names_of(agents: Iterable[Any]) -> Dict[str, str]:
    return {a.id: a.name for a in agents}
