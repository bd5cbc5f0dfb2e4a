"""Getting messages to the customer and into the Rasa tracker.

- socket.io customers: an emit through python-socketio's AsyncRedisManager
  (write-only) into the customer's room; the Rasa socket.io channel
  (bot.channels.socketio_input.KefuSocketIOInput) uses a manager on the same Redis, so the
  emit reaches the customer's socket wherever it is connected.
- REST customers: stored for ``GET /customer/{sender}/messages``.
- Every message is also appended to the Rasa tracker through Rasa's HTTP API
  so the conversation's history stays complete and in order.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Mapping, Optional, Protocol
from urllib.parse import quote

import httpx

from handoff.queue import HandoffQueue

logger = logging.getLogger(__name__)

SOCKETIO_CHANNELS = frozenset({"socketio", "kefu_socketio"})
BOT_MESSAGE_EVENT = "bot_uttered"


class Emitter(Protocol):
    async def emit(self, event: str, data: Any, namespace: Optional[str] = None, room: Optional[str] = None,
                   **kwargs: Any) -> None: ...


class RasaClient:
    """The few Rasa HTTP API calls the bridge needs (Rasa runs with --enable-api)."""

    def __init__(self, base_url: str, token: str, client: Optional[httpx.AsyncClient] = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.http = client or httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=2.0))

    def _url(self, sender: str, path: str) -> str:
        return f"{self.base_url}/conversations/{quote(sender, safe='')}/{path}"

    async def append_events(self, sender: str, events: List[Dict[str, Any]]) -> bool:
        try:
            resp = await self.http.post(
                self._url(sender, "tracker/events"), params={"token": self.token}, json=events
            )
            if resp.status_code >= 400:
                logger.warning("Rasa refused tracker events for %s: HTTP %s", sender, resp.status_code)
                return False
            return True
        except httpx.HTTPError as exc:
            logger.warning("Rasa unreachable while appending events for %s: %s", sender, exc)
            return False

    async def trigger_intent(self, sender: str, intent: str, entities: Optional[Mapping[str, str]] = None) -> List[Dict[str, Any]]:
        """Trigger an external intent; the bot messages it produced (collector channel)."""
        try:
            resp = await self.http.post(
                self._url(sender, "trigger_intent"),
                params={"token": self.token},
                json={"name": intent, "entities": dict(entities or {})},
            )
            if resp.status_code >= 400:
                logger.warning("Rasa refused %s for %s: HTTP %s", intent, sender, resp.status_code)
                return []
            return list(resp.json().get("messages") or [])
        except (httpx.HTTPError, ValueError) as exc:
            logger.warning("Rasa unreachable while triggering %s for %s: %s", intent, sender, exc)
            return []

    async def close(self) -> None:
        await self.http.aclose()


class Relay:
    """Sends one message to a customer on the channel they used."""

    def __init__(self, queue: HandoffQueue, rasa: RasaClient, emitter: Optional[Emitter]) -> None:
        self.queue = queue
        self.rasa = rasa
        self.emitter = emitter

    async def to_customer(self, sender: str, channel: str, message: Dict[str, Any]) -> None:
        """Deliver ``message`` ({text, metadata, buttons...}) to the customer."""
        if channel in SOCKETIO_CHANNELS and self.emitter is not None:
            try:
                await self.emitter.emit(BOT_MESSAGE_EVENT, message, room=sender)
            except Exception as exc:  # a socket.io failure must not lose the REST copy below
                logger.warning("socket.io emit to %s failed: %s", sender, exc)
        # REST customers poll; socket.io customers can poll too after a reconnect.
        await self.queue.push_customer(sender, message)

    async def log_bot(self, sender: str, text: str, metadata: Mapping[str, Any]) -> bool:
        """Append a bot event (agent message or bridge notice) to the Rasa tracker."""
        return await self.rasa.append_events(sender, [{"event": "bot", "text": text, "metadata": dict(metadata)}])
