"""Every Redis key the handoff bridge uses, in one place; at the end, the tracker store's
write counter (the one key here outside ``kefu:handoff:``).

All keys share the ``kefu:handoff:`` prefix so the bridge never collides with
Rasa's tracker and lock stores (prefix ``kefu``) on the same database.

Retention: a ticket, a transcript, a conversation pointer and a REST outbox
expire ``KEFU_RETENTION_DAYS`` (default 30) after their last write, set by the
write itself (handoff/queue/lua/); a closed ticket and a customer token after
7 days, or the retention if shorter. The events stream holds masked text
only and is capped in length; the audit stream holds no message text.
"""
from __future__ import annotations

PREFIX = "kefu:handoff:"

#: sorted set: ticket id -> score (class * 1e13 + enqueue ms); waiting tickets
QUEUE = PREFIX + "queue"
#: sorted set: ticket id -> lease expiry (ms); tickets an agent holds
LEASES = PREFIX + "leases"
#: sorted set: agent id -> last seen (ms)
ONLINE = PREFIX + "online"
#: list of recent handling times (ms, claim -> close), newest first
HANDLE_TIMES = PREFIX + "handle_ms"
#: stream: live events for agent consoles (queue changes, messages of chats)
EVENTS = PREFIX + "events"
#: stream: append-only audit log (escalate, claim, transfer, reveal, close)
AUDIT = PREFIX + "audit"
#: counter: global claim sequence (to check fairness)
CLAIM_SEQ = PREFIX + "claim_seq"
#: string: the last enqueue ms handed out; enqueue times are strictly increasing
ENQUEUE_MS = PREFIX + "enqueue_ms"

TICKET_PREFIX = PREFIX + "ticket:"
CONV_PREFIX = PREFIX + "conv:"
TRANSCRIPT_PREFIX = PREFIX + "transcript:"
CUSTOMER_OUT_PREFIX = PREFIX + "customer_out:"
CUSTOMER_TOKEN_PREFIX = PREFIX + "customer_token:"
ESCALATION_PREFIX = PREFIX + "escalation:"
AGENT_CHATS_PREFIX = PREFIX + "agent_chats:"
ONLINE_SKILL_PREFIX = PREFIX + "online_skill:"
#: per-customer limit counters (issue 12), each with its window as TTL
LIMIT_PREFIX = PREFIX + "limit:"
#: string: an anonymous REST sender's session key state, "issued" or "bound" (bot/channels/rest_sessions.py)
REST_SESSION_PREFIX = PREFIX + "rest_session:"


def rest_session(sender: str) -> str:
    """Whether an anonymous REST sender's session key was handed out, and whether it is required."""
    return REST_SESSION_PREFIX + sender


def ticket(ticket_id: str) -> str:
    """Hash with every field of one ticket."""
    return TICKET_PREFIX + ticket_id


def conversation(sender: str) -> str:
    """String ``<state>:<ticket id>`` while a conversation is in handoff.

    The channels read it with one GET on every customer message.
    """
    return CONV_PREFIX + sender


def transcript(sender: str) -> str:
    """Stream of every message of a conversation (customer, bot, agent)."""
    return TRANSCRIPT_PREFIX + sender


def customer_outbox(sender: str) -> str:
    """Stream of messages for a REST customer to poll."""
    return CUSTOMER_OUT_PREFIX + sender


def customer_token(sender: str) -> str:
    """Hash: sha256 of each poll token handed out → the outbox id its view starts after."""
    return CUSTOMER_TOKEN_PREFIX + sender


def escalation(escalation_id: str) -> str:
    """Idempotency key: escalation id -> ticket id (outbox retries)."""
    return ESCALATION_PREFIX + escalation_id


def agent_chats(agent_id: str) -> str:
    """Set of ticket ids an agent currently holds."""
    return AGENT_CHATS_PREFIX + agent_id


def online_skill(skill: str) -> str:
    """Sorted set: agent id -> last seen (ms), for agents with ``skill``."""
    return ONLINE_SKILL_PREFIX + skill


def typing(sender: str, typing: bool) -> str:
    """Short-lived marker that throttles the customer's typing events."""
    return f"{PREFIX}typing:{int(typing)}:{sender}"


def message_count(sender: str) -> str:
    """Counter of a sender's messages in the current minute (bot/channels/guard.py, handoff/limits.py)."""
    return f"{LIMIT_PREFIX}messages:{sender}"


def escalation_count(sender: str) -> str:
    """Counter of a sender's new tickets in the current hour (the bridge's escalate)."""
    return f"{LIMIT_PREFIX}escalations:{sender}"


def presence(sender: str) -> str:
    """Set while the customer's chat page is open (refreshed by its heartbeat)."""
    return f"{PREFIX}presence:{sender}"


def sent(ticket_id: str, client_id: str) -> str:
    """string: message id of an agent message already sent with this idempotency key (1 day)."""
    return f"{PREFIX}sent:{ticket_id}:{client_id}"


def notes(ticket_id: str) -> str:
    """list: internal notes on a ticket (JSON, masked), for agents only; kept as long as the ticket."""
    return f"{PREFIX}notes:{ticket_id}"


def customer_tickets(sender: str) -> str:
    """sorted set: ticket id -> created ms, every ticket of a conversation (the customer's history)."""
    return f"{PREFIX}customer_tickets:{sender}"


#: Rasa's tracker store keeps each conversation at ``<prefix>tracker:<sender>`` (endpoints.yml's
#: key_prefix ``kefu``); beside it a counter bumped by every write, ``<prefix>tracker_version:<sender>``,
#: which lets a Rasa process trust the tracker it saved last instead of reading and replaying it
#: again (bot/stores/tracker_cache.py). Not under ``…tracker:`` so Rasa's ``keys()`` and the
#: stats never take it for a conversation.
TRACKER_VERSION_SUFFIX = "_version:"


def tracker_version(tracker_key_prefix: str, sender: str) -> str:
    """The write counter of ``sender``'s tracker, for a store whose keys start ``tracker_key_prefix``."""
    return tracker_key_prefix.rstrip(":") + TRACKER_VERSION_SUFFIX + sender
