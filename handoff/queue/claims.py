"""Agents and their chats: who is online, claims, leases, transfers and closing.

Every check-then-write is one Lua script (handoff/queue/lua/), so two
agents can never hold the same ticket and a crash between two writes cannot
leave a ticket half-moved. A lease is renewed while the agent's console
shows the chat; one that runs out sends the ticket back to its old place.
"""
from __future__ import annotations

from typing import Dict, List, Sequence

from core import keys
from handoff.exceptions import BY_CODE
from handoff.queue.base import Claim, raise_for, redis_errors
from handoff.queue.tickets import Tickets


class Claims(Tickets):
    """Online agents, claims and leases (``require_owner`` reads the ticket, hence Tickets)."""

    @redis_errors
    async def touch_agent(self, agent_id: str, skills: Sequence[str]) -> None:
        """Mark an agent online now (their skills count for routing)."""
        now = self.clock()
        pipe = self.redis.pipeline(transaction=True)
        pipe.zadd(keys.ONLINE, {agent_id: now})
        for skill in skills:
            pipe.zadd(keys.online_skill(skill), {agent_id: now})
        await pipe.execute()

    @redis_errors
    async def set_offline(self, agent_id: str, skills: Sequence[str]) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.zrem(keys.ONLINE, agent_id)
        for skill in skills:
            pipe.zrem(keys.online_skill(skill), agent_id)
        await pipe.execute()

    @redis_errors
    async def claim(self, ticket_id: str, agent_id: str, agent_name: str, skills: Sequence[str]) -> Claim:
        result = await self._run("claim", ticket_id, agent_id, agent_name, ",".join(skills), self.lease_ms,
                                 self.max_chats, self._cutoff())
        raise_for(result)
        return Claim(str(result[1]), int(result[2] or 0))

    @redis_errors
    async def claim_next(self, agent_id: str, agent_name: str, skills: Sequence[str]) -> Claim:
        """The first waiting ticket this agent may take, in queue order."""
        result = await self._run("claim_next", agent_id, agent_name, ",".join(skills), self.lease_ms, self.max_chats,
                                 self._cutoff())
        raise_for(result)
        return Claim(str(result[1]), int(result[2]))

    @redis_errors
    async def renew(self, ticket_id: str, agent_id: str) -> None:
        raise_for(await self._run("renew", ticket_id, agent_id, self.lease_ms))

    @redis_errors
    async def renew_all(self, agent_id: str) -> List[str]:
        """Renew every lease the agent holds and has confirmed (their console is connected)."""
        return [str(t) for t in await self._run("renew_held", agent_id, self.lease_ms)]

    @redis_errors
    async def eligible(self, agent_id: str, skills: Sequence[str], ticket_ids: Sequence[str]) -> Dict[str, bool]:
        """Which of these waiting tickets the agent may claim now (same rule as the claim)."""
        if not ticket_ids:
            return {}
        flags = await self._run("eligible", agent_id, ",".join(skills), self._cutoff(), *ticket_ids)
        return {tid: flag == "1" for tid, flag in zip(ticket_ids, flags)}

    @redis_errors
    async def reap(self, limit: int = 100) -> List[str]:
        """Return tickets whose lease ran out to their old place in the queue."""
        return [str(t) for t in await self._run("reap", limit)]

    @redis_errors
    async def transfer(self, ticket_id: str, agent_id: str, to_agent: str = "", skill: str = "") -> str:
        result = await self._run("transfer", ticket_id, agent_id, to_agent, skill)
        raise_for(result)
        return str(result[1])

    @redis_errors
    async def resolve(self, ticket_id: str, agent_id: str, outcome: str = "resolved") -> str:
        """Close a ticket the agent holds (resolved or handback): the sender."""
        result = await self._run("close", ticket_id, agent_id, outcome, "owner", self.closed_ttl)
        raise_for(result)
        return str(result[1])

    @redis_errors
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
