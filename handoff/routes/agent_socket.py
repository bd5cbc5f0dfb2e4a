"""The agent console's live channel: ``/ws/agent?token=<agent token>&last_id=<event id>``.

Relays the queue's events (handoff/queue/events.py) the agent may see: queue
changes for everyone, messages, typing and presence only for the ticket's
holder. While the socket is open it is the agent's heartbeat: it keeps them
online and renews the leases of the chats their console has confirmed.
Close codes: 4401 bad token, 4400 bad ``last_id``, 1013 Redis unavailable.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any, Dict, Optional

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from handoff.exceptions import QueueUnavailable
from handoff.routes.common import bearer, service_of, settings_of, stream_id_ok

PATH = "/ws/agent"


def event_for(agent_id: str, event_id: str, fields: Dict[str, str]) -> Optional[Dict[str, Any]]:
    """The event as this agent's console gets it, or None when it is about another agent's chat."""
    kind = fields.get("type", "")
    out: Dict[str, Any] = {"id": event_id, "type": kind, "ticket_id": fields.get("ticket_id", "")}
    if kind == "queue":
        out["reason"] = fields.get("data", "")
        return out
    if fields.get("owner") != agent_id:
        return None
    if kind == "message":
        out["message"] = json.loads(fields.get("data") or "{}")
    elif kind == "typing":
        out["typing"] = fields.get("data") == "1"
    elif kind == "presence":
        out["online"] = fields.get("data") == "1"
    else:
        out["reason"] = fields.get("data", "")
    return out


async def agent_socket(websocket: WebSocket) -> None:
    svc = service_of(websocket)
    settings = settings_of(websocket)
    agent = svc.agents.by_token(websocket.query_params.get("token", "") or bearer(websocket))
    if agent is None:
        await websocket.close(code=4401)
        return
    last_id = websocket.query_params.get("last_id", "") or "0"
    if not stream_id_ok(last_id):
        await websocket.close(code=4400)
        return
    await websocket.accept()
    try:
        if last_id == "0":
            last_id = await svc.queue.last_event_id()
        await svc.queue.touch_agent(agent.id, agent.skills)
        await websocket.send_json({"type": "hello", "id": last_id, "agent": agent.public()})
    except QueueUnavailable:
        await websocket.close(code=1013)
        return

    closed = asyncio.Event()

    async def pump() -> None:
        cursor = last_id
        renew_every = max(1.0, settings.lease_seconds / 3)
        next_renew = 0.0
        loop = asyncio.get_running_loop()
        while not closed.is_set():
            if loop.time() >= next_renew:
                await svc.queue.touch_agent(agent.id, agent.skills)
                await svc.queue.renew_all(agent.id)
                next_renew = loop.time() + renew_every
            try:
                rows = await svc.queue.events(cursor, block_ms=int(min(renew_every, 1.0) * 1000))
            except QueueUnavailable:
                await asyncio.sleep(1.0)
                continue
            for event_id, fields in rows:
                cursor = event_id
                event = event_for(agent.id, event_id, fields)
                if event is not None:
                    await websocket.send_json(event)

    async def listen() -> None:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return

    tasks = [asyncio.create_task(pump()), asyncio.create_task(listen())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        closed.set()  # also stops the pump if redis-py swallows the cancellation
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks, timeout=3)
        for task in tasks:
            if task.done() and not task.cancelled():
                task.exception()  # retrieved: a dropped socket is expected here
        with contextlib.suppress(Exception):
            await websocket.close()


ROUTE = WebSocketRoute(PATH, agent_socket)
