"""Steps the console browser tests share: a REST customer in the queue, a claim in the page,
what the bridge stored (read from Redis, as an auditor would)."""
from __future__ import annotations

import time
import uuid
from typing import Any, Dict, List, Optional

import httpx
import redis
from playwright.sync_api import expect

from core import keys
from tests.browser.conftest import LiveStack

ORDER = "2023112215300012345"  # seeded: a late food order, rider 王师傅 (scripts/seed_orders.py)


def rest_customer_waiting(stack: LiveStack, first: str = f"我的订单 {ORDER} 的外卖还没到") -> str:
    """A REST customer who asked for a person: their conversation id (the ticket is waiting)."""
    sender = f"rest-{uuid.uuid4().hex[:8]}"
    stack.rest(sender, first)
    stack.rest(sender, "转人工")
    ticket_for(stack, sender)
    return sender


def ticket_id_of(stack: LiveStack, sender: str) -> Optional[str]:
    """The ticket of ``sender``'s conversation, from Redis: agents see a masked handle, never the id."""
    state = conversation_state(stack, sender)
    return state.split(":", 1)[1] if state else None


def sender_of(stack: LiveStack, ticket_id: str) -> str:
    """The conversation a ticket belongs to (Redis; not in any agent view)."""
    return str(db(stack).hget(keys.ticket(ticket_id), "sender"))


def ticket_for(stack: LiveStack, sender: str, agent: str = "gen1", timeout: float = 30) -> Dict[str, Any]:
    """The waiting ticket of ``sender`` as the queue API shows it to ``agent``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tid = ticket_id_of(stack, sender)
        queue = httpx.get(f"{stack.handoff}/api/queue", headers=stack.agent_headers(agent)).json()["tickets"]
        found = next((t for t in queue if tid and t["id"] == tid), None)
        if found:
            return dict(found)
        time.sleep(0.2)
    raise AssertionError(f"no waiting ticket for {sender}")


def claim_in_console(page: Any, ticket: Dict[str, Any]) -> None:
    """Click 接入 on the ticket's card and wait until its chat is open."""
    page.locator(f"#queue li.ticket[data-ticket='{ticket['id']}'] button.claim").click()
    expect(page.locator(f"#tabs button.active[data-ticket='{ticket['id']}']")).to_be_visible(timeout=10_000)
    expect(page.locator("#chat")).to_be_visible()


def db(stack: LiveStack) -> "redis.Redis[str]":
    return redis.Redis.from_url(stack.redis, decode_responses=True)


def transcript(stack: LiveStack, sender: str) -> List[Dict[str, str]]:
    """Every stored line of the conversation (raw text), oldest first."""
    return [dict(f) for _, f in db(stack).xrange(f"kefu:handoff:transcript:{sender}")]


def conversation_state(stack: LiveStack, sender: str) -> Optional[str]:
    """'waiting:<id>' / 'active:<id>' while in handoff, None once the bot has it back."""
    return db(stack).get(f"kefu:handoff:conv:{sender}")


def held_by(stack: LiveStack, agent: str) -> List[str]:
    chats = httpx.get(f"{stack.handoff}/api/chats", headers=stack.agent_headers(agent)).json()["tickets"]
    return [t["id"] for t in chats]
