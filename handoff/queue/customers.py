"""REST customers: their poll tokens and their outbox (what an agent wrote, waiting to be polled)."""
from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, Optional, Tuple

from core import keys
from handoff.queue.base import CUSTOMER_OUT_MAXLEN, QueueCore, redis_errors


def stream_position(stream_id: str) -> Tuple[int, int]:
    """'1700000000000-3' → (1700000000000, 3); '0', '' or '-' → (0, 0)."""
    ms, _, seq = (stream_id or "0").partition("-")
    return (int(ms), int(seq or 0)) if ms.isdigit() else (0, 0)


class Customers(QueueCore):
    """Poll tokens (one per escalation, stored as sha256) and the customer's outbox stream."""

    @redis_errors
    async def set_customer_token(self, sender: str, token_sha256: str) -> None:
        """Add a poll token that sees only the messages queued after now.

        One token per escalation, kept side by side: a second 转人工 with the
        same sender (the customer after a reload, or someone who learnt the
        id) gets a token of its own that cannot read what the agent wrote
        before, and the first token keeps working.
        """
        await self.scripts["issue_token"](keys=[keys.customer_token(sender), keys.customer_outbox(sender)],
                                          args=[token_sha256, self.closed_ttl])

    @redis_errors
    async def customer_token_start(self, sender: str, token_sha256: str) -> Optional[str]:
        """The outbox id a token's view starts after, or None for an unknown token."""
        raw = await self.redis.hget(keys.customer_token(sender), token_sha256)
        return str(raw) if raw else None

    @redis_errors
    async def push_customer(self, sender: str, payload: Mapping[str, Any]) -> str:
        """Queue a message for a REST customer; the stream expires with the retention."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.xadd(keys.customer_outbox(sender), {"data": json.dumps(payload, ensure_ascii=False)},
                  maxlen=CUSTOMER_OUT_MAXLEN, approximate=True)
        pipe.expire(keys.customer_outbox(sender), self.retention_seconds)
        message_id, _ = await pipe.execute()
        return str(message_id)

    @redis_errors
    async def customer_messages(self, sender: str, after: str = "0", count: int = 100,
                                since: str = "0") -> List[Dict[str, Any]]:
        """Messages queued for a REST customer after `after`, never before `since` (the token's start)."""
        first = max(after, since, key=stream_position)
        start = "-" if stream_position(first) == (0, 0) else f"({first}"
        rows = await self.redis.xrange(keys.customer_outbox(sender), min=start, max="+", count=count)
        return [dict(json.loads(f["data"]), id=str(mid)) for mid, f in rows]
