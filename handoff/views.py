"""What an agent sees of a ticket: the console's card and chat view, masked.

The customer is shown by a masked conversation id, the transcript by its
masked text; the order's script variables (masked) come from the read-only
order view (handoff/orders.py). The bridge's own trigger intents
(EXTERNAL_handoff_*) say nothing about the customer and are left out.
"""
from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone
from typing import Any, Dict, List, Mapping, Optional

from handoff.agents import Agent
from handoff.orders import OrdersReader
from handoff.queue import HandoffQueue


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def mask_customer(sender: str) -> str:
    """What agents see of a conversation id: enough to tell chats apart, no phone number."""
    if len(sender) <= 4:
        return sender[:1] + "***"
    keep = 3 if len(sender) >= 10 else 2
    return sender[:keep] + "****" + sender[-4:]


def as_int(value: Optional[str]) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


class TicketViews:
    """Builds ticket views from the queue (and the orders, when the bridge can read them)."""

    def __init__(self, queue: HandoffQueue, orders: Optional[OrdersReader] = None) -> None:
        self.queue = queue
        self.orders = orders

    async def ticket(self, ticket: Mapping[str, str], transcript: bool = True) -> Dict[str, Any]:
        view: Dict[str, Any] = {
            "id": ticket["id"],
            "customer": mask_customer(ticket["sender"]),
            "channel": ticket.get("channel", ""),
            "priority": ticket.get("priority", ""),
            "reason": ticket.get("reason", ""),
            # the bridge's own trigger intents (EXTERNAL_handoff_*) say nothing about the customer
            "intents": [i for i in json.loads(ticket.get("intents") or "[]") if not str(i).startswith("EXTERNAL_")],
            "order_ref": ticket.get("order_ref", ""),
            "order_type": ticket.get("order_type", ""),
            "summary": ticket.get("summary", ""),
            "sentiment": {"label": ticket.get("sentiment") or "calm"},
            "state": ticket.get("state", ""),
            "owner": ticket.get("owner", ""),
            "owner_name": ticket.get("owner_name", ""),
            "created_at": iso(as_int(ticket.get("created_ms"))),
            "sla_deadline": iso(as_int(ticket.get("sla_deadline_ms"))),
            "variables": {"order_id": ticket.get("order_ref", ""), "order_type": ticket.get("order_type", "")},
        }
        if ticket.get("state") == "waiting":
            view["position"] = await self.queue.position(ticket["id"])
        if transcript:
            view["customer_online"] = await self.queue.customer_online(ticket["sender"])
            if self.orders is not None:
                view["variables"].update(await asyncio.to_thread(self.orders.variables, view["order_ref"]))
            view["transcript"] = [m.for_agent() for m in await self.queue.transcript(ticket["sender"])]
        return view

    async def waiting_for(self, agent: Agent) -> List[Dict[str, Any]]:
        """The waiting tickets (masked), each marked with whether this agent may claim it now."""
        waiting = await self.queue.waiting()
        eligible = await self.queue.eligible(agent.id, agent.skills, [t["id"] for t in waiting])
        views = []
        for t in waiting:
            view = await self.ticket(t, transcript=False)
            view["eligible"] = eligible.get(t["id"], True)
            view["required_skill"] = t.get("required_skill", "")
            view["reserved"] = bool(t.get("reserved_for")) and t.get("reserved_for") != agent.id
            views.append(view)
        return views
