"""The handoff queue: tickets, claims, leases and transcripts in Redis.

Only this package talks to Redis for the bridge (besides the desk's notes
and the supervisor figures). Every check-then-write is one Lua script
(lua/*.lua), so two agents can never hold the same ticket and a crash
between two writes cannot leave a ticket half-moved. Key names are in
core/keys.py.

One class, ``HandoffQueue``, made of one mixin per concern:

- base.py: the client, the settings, the registered scripts, the value types;
- tickets.py: escalation, bumps, leaving, position and wait, reading tickets;
- claims.py: agents online, claims, leases, transfers, closing;
- transcripts.py: a conversation's lines, raw and masked;
- customers.py: REST customers' poll tokens and outbox;
- events.py: the consoles' live events, typing, presence, the audit log.
"""
from __future__ import annotations

from handoff.queue.base import (
    CLASS_SPAN,
    CUSTOMER_OUT_MAXLEN,
    DEFAULT_HANDLE_MS,
    EVENTS_MAXLEN,
    PRIORITIES,
    REASON_PRIORITY,
    RETENTION_SECONDS,
    TICKET_TTL_SECONDS,
    Claim,
    Message,
    NewTicket,
    now_ms,
    priority_for,
    redis_errors,
)
from handoff.queue.claims import Claims
from handoff.queue.customers import Customers, stream_position
from handoff.queue.events import Events
from handoff.queue.transcripts import Transcripts


class HandoffQueue(Claims, Transcripts, Customers, Events):
    """Tickets in Redis. Construct freely: nothing connects until first use."""


__all__ = [
    "CLASS_SPAN", "CUSTOMER_OUT_MAXLEN", "DEFAULT_HANDLE_MS", "EVENTS_MAXLEN", "PRIORITIES", "REASON_PRIORITY",
    "RETENTION_SECONDS", "TICKET_TTL_SECONDS", "Claim", "HandoffQueue", "Message", "NewTicket", "now_ms",
    "priority_for", "redis_errors", "stream_position",
]
