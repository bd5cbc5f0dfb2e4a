"""Customers and agents as the scale-out and failover tests see them (real HTTP, socket.io, WebSocket).

A customer's client retries what a real app retries: a message that got no
answer (connection refused or reset, 502/503/504 from nginx) is sent again
until a deadline. ``Tally`` counts what the user would notice.
"""
from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional
from urllib.parse import quote

import httpx
import socketio
import websockets

RETRY_STATUSES = {502, 503, 504}


@dataclass
class Tally:
    """sent / delivered / lost / duplicated, printed by the tests."""

    name: str
    sent: int = 0
    delivered: int = 0
    lost: int = 0
    duplicated: int = 0
    retried: int = 0
    notes: List[str] = field(default_factory=list)

    def line(self) -> str:
        return (f"{self.name}: sent={self.sent} delivered={self.delivered} lost={self.lost} "
                f"duplicated={self.duplicated} retried={self.retried}")


async def post_until(http: httpx.AsyncClient, url: str, body: Dict[str, Any], deadline: float,
                     headers: Optional[Dict[str, str]] = None) -> "tuple[Optional[httpx.Response], int]":
    """POST until an answer that is not a proxy/overload error, or the deadline: (response, retries)."""
    retries = 0
    while True:
        try:
            resp = await http.post(url, json=body, headers=headers or {})
            if resp.status_code not in RETRY_STATUSES:
                return resp, retries
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            return None, retries
        retries += 1
        await asyncio.sleep(0.5)


async def say(http: httpx.AsyncClient, rasa: str, sender: str, text: str, deadline: float) -> "tuple[List[str], int]":
    """One customer message over Kefu's REST channel: (bot texts, retries)."""
    resp, retries = await post_until(http, f"{rasa}/webhooks/kefu/webhook", {"sender": sender, "message": text}, deadline)
    if resp is None or resp.status_code != 200:
        return [], retries
    return [str(m.get("text") or "") for m in resp.json() if m.get("text") or m.get("buttons")], retries


async def user_texts(http: httpx.AsyncClient, rasa: str, token: str, sender: str) -> List[str]:
    """The customer's messages in the conversation's tracker (shared Redis), in order."""
    resp = await http.get(f"{rasa}/conversations/{quote(sender, safe='')}/tracker", params={"token": token})
    resp.raise_for_status()
    return [e.get("text") or "" for e in resp.json().get("events", []) if e.get("event") == "user"]


class SocketCustomer:
    """The in-app chat: socket.io to one Rasa server (or nginx), rasa-webchat protocol."""

    def __init__(self, sender: str) -> None:
        self.sender = sender
        self.client = socketio.AsyncClient(reconnection=False)
        self.texts: List[str] = []
        self._confirmed = asyncio.Event()
        self.client.on("session_confirm", self._on_confirm)
        self.client.on("bot_uttered", self._on_bot)

    async def _on_confirm(self, _data: Any) -> None:
        self._confirmed.set()

    async def _on_bot(self, data: Any) -> None:
        self.texts.append(str(data.get("text") if isinstance(data, dict) else data))

    async def connect(self, url: str) -> None:
        self._confirmed.clear()
        await self.client.connect(url, socketio_path="/socket.io", transports=["websocket"], wait_timeout=20)
        await self.client.emit("session_request", {"session_id": self.sender})
        await asyncio.wait_for(self._confirmed.wait(), 20)

    async def say(self, text: str) -> None:
        await self.client.emit("user_uttered", {"message": text, "session_id": self.sender})

    async def close(self) -> None:
        await self.client.disconnect()

    async def wait_for(self, text: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in t for t in self.texts):
                return True
            await asyncio.sleep(0.1)
        return False


class Agent:
    """An agent: the console's WebSocket on one bridge (events) and HTTP calls on another, or nginx."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.headers = {"Authorization": f"Bearer {token}"}
        self.events: List[Dict[str, Any]] = []
        self._task: Optional[asyncio.Task] = None
        self._ready = asyncio.Event()

    async def listen(self, bridge: str) -> None:
        url = bridge.replace("http://", "ws://") + f"/ws/agent?token={self.token}"
        self._task = asyncio.create_task(self._pump(url))
        await asyncio.wait_for(self._ready.wait(), 20)

    async def _pump(self, url: str) -> None:
        async with websockets.connect(url, max_size=2**20) as ws:
            async for raw in ws:
                event = json.loads(raw)
                if event.get("type") == "hello":
                    self._ready.set()
                self.events.append(event)

    def saw_escalation(self, ticket_id: str) -> bool:
        return any(e.get("type") == "queue" and e.get("ticket_id") == ticket_id for e in self.events)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


async def ticket_of(http: httpx.AsyncClient, bridge: str, internal_token: str, sender: str) -> Optional[str]:
    """The open ticket of a conversation, through the bridge's internal API."""
    resp = await http.get(f"{bridge}/internal/conversations/{quote(sender, safe='')}",
                          headers={"Authorization": f"Bearer {internal_token}"})
    if resp.status_code != 200:
        return None
    return resp.json().get("ticket_id")


async def eventually_ticket(http: httpx.AsyncClient, bridge: str, internal_token: str, sender: str,
                            timeout: float) -> Optional[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = await ticket_of(http, bridge, internal_token, sender)
        except httpx.TransportError:
            found = None
        if found:
            return found
        await asyncio.sleep(0.3)
    return None
