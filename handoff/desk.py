"""The agent's desk beside a chat: internal notes and the customer's earlier conversations.

Notes are for agents only (never relayed to the customer), stored masked
like every transcript line, and expire with the retention like the ticket.
The history is every ticket of the same conversation id (the index is
written when a ticket is created, handoff/service.py), newest first.
"""
from __future__ import annotations

import json
from typing import Any, Dict, List

from core import keys
from handoff.agents import Agent
from handoff.queue import HandoffQueue, redis_errors
from handoff.views import iso

NOTES_MAX = 200
HISTORY_MAX = 20


class Desk:
    def __init__(self, queue: HandoffQueue) -> None:
        self.queue = queue

    @redis_errors
    async def add_note(self, agent: Agent, ticket_id: str, masked: str) -> Dict[str, Any]:
        note = {"text": masked, "agent_name": agent.name, "ts": self.queue.clock()}
        pipe = self.queue.redis.pipeline(transaction=True)
        pipe.rpush(keys.notes(ticket_id), json.dumps(note, ensure_ascii=False))
        pipe.ltrim(keys.notes(ticket_id), -NOTES_MAX, -1)
        pipe.expire(keys.notes(ticket_id), self.queue.retention_seconds)
        await pipe.execute()
        await self.queue.audit("note", ticket_id, agent.id, "")
        return note

    @redis_errors
    async def notes(self, ticket_id: str) -> List[Dict[str, Any]]:
        return [json.loads(raw) for raw in await self.queue.redis.lrange(keys.notes(ticket_id), 0, -1)]

    @redis_errors
    async def history(self, sender: str, current: str) -> List[Dict[str, Any]]:
        """The conversation's other tickets, newest first: when, why, how it ended, notes."""
        ids = [str(t) for t in await self.queue.redis.zrevrange(keys.customer_tickets(sender), 0, HISTORY_MAX)]
        out: List[Dict[str, Any]] = []
        for tid in ids:
            if tid == current:
                continue
            data = await self.queue.redis.hgetall(keys.ticket(tid))
            if not data:
                continue  # expired with the retention
            out.append({
                "id": tid, "created_at": iso(int(data.get("created_ms") or 0)), "reason": data.get("reason", ""),
                "summary": data.get("summary", ""), "state": data.get("state", ""),
                "outcome": data.get("outcome", ""), "agent_name": data.get("owner_name") or "",
                "notes": len(await self.notes(tid)),
            })
        return out
