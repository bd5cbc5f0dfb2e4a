"""The agents' live event stream (what the /ws/agent WebSocket relays), typing and presence, and the audit log."""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

from core import keys
from handoff.queue.base import EVENTS_MAXLEN, QueueCore, redis_errors


class Events(QueueCore):
    """Events for consoles, the customer's typing and presence, and audit entries."""

    @redis_errors
    async def publish(self, kind: str, ticket_id: str, owner: str, data: str = "") -> str:
        return str(
            await self.redis.xadd(
                keys.EVENTS, {"type": kind, "ticket_id": ticket_id, "owner": owner, "data": data},
                maxlen=EVENTS_MAXLEN, approximate=True,
            )
        )

    @redis_errors
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

    @redis_errors
    async def typing(self, sender: str, ticket_id: str, typing: bool, throttle_ms: int = 1000) -> bool:
        """A typing event for the agent holding ``ticket_id``, at most one per second and state."""
        if not await self.redis.set(keys.typing(sender, typing), "1", px=throttle_ms, nx=True):
            return False
        owner = await self.redis.hget(keys.ticket(ticket_id), "owner")
        if not owner:
            return False
        await self.publish("typing", ticket_id, str(owner), "1" if typing else "0")
        return True

    @redis_errors
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

    @redis_errors
    async def customer_online(self, sender: str) -> bool:
        return bool(await self.redis.exists(keys.presence(sender)))

    @redis_errors
    async def last_event_id(self) -> str:
        rows = await self.redis.xrevrange(keys.EVENTS, count=1)
        return str(rows[0][0]) if rows else "0"

    @redis_errors
    async def audit(self, action: str, ticket_id: str, by: str, detail: str = "") -> str:
        return str(
            await self.redis.xadd(
                keys.AUDIT, {"action": action, "ticket_id": ticket_id, "by": by, "at": str(self.clock()), "detail": detail}
            )
        )

    @redis_errors
    async def audit_log(self, ticket_id: Optional[str] = None, count: int = 10000) -> List[Dict[str, str]]:
        rows = await self.redis.xrange(keys.AUDIT, count=count)
        entries = [dict({str(k): str(v) for k, v in f.items()}, id=str(i)) for i, f in rows]
        return [e for e in entries if ticket_id is None or e.get("ticket_id") == ticket_id]
