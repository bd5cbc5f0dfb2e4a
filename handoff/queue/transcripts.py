"""Transcripts: every line of a conversation in handoff, raw and masked, in one Redis stream per sender."""
from __future__ import annotations

from typing import List, Optional, Tuple

from core import keys
from handoff.queue.base import Message, QueueCore, redis_errors


class Transcripts(QueueCore):
    """Writing and reading a conversation's lines (agents see only the masked text)."""

    @redis_errors
    async def append(self, sender: str, role: str, text: str, masked: str, agent_name: str = "") -> Tuple[str, str, str]:
        """Add a message to the conversation's transcript: (message id, ticket id, owner).

        The agent holding the ticket gets it as a live event.
        """
        result = await self._run("append", sender, role, text, masked, agent_name)
        return str(result[0]), str(result[1]), str(result[2])

    @redis_errors
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

    @redis_errors
    async def message(self, sender: str, message_id: str) -> Optional[Message]:
        rows = await self.redis.xrange(keys.transcript(sender), min=message_id, max=message_id, count=1)
        for mid, f in rows:
            return Message(str(f["role"]), str(f["text"]), str(f["masked"]), int(f["ts"]), str(f.get("agent_name", "")), str(mid))
        return None
