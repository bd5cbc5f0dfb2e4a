"""How the suite talks to the running stack: as a customer, and as an agent looks.

``RestCustomer`` uses Kefu's REST channel (POST /webhooks/kefu/webhook, one
request per message, the replies in the answer). ``SocketCustomer`` uses the
socket.io channel the in-app chat uses (rasa-webchat protocol); replies arrive
one by one, so a turn ends when the bot has been quiet for ``QUIET`` seconds.
``Queue`` reads the agents' live queue through the bridge's agent API.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Dict, List, Optional

import httpx
import socketio

from tests.conversations.scenario import Reply

#: seconds without a new bot message that end a socket.io turn
QUIET = 1.2
#: longest a single turn may take before it counts as silence
TURN_TIMEOUT = 30.0


def visible(message: Dict[str, Any]) -> bool:
    """Whether a bot message shows the customer anything (a data-only `custom` does not)."""
    return bool(message.get("text") or message.get("buttons") or message.get("quick_replies")
                or message.get("image") or message.get("attachment"))


class RestCustomer:
    def __init__(self, rasa_url: str, sender: str, headers: Optional[Dict[str, str]] = None) -> None:
        self.url = f"{rasa_url}/webhooks/kefu/webhook"
        self.sender = sender
        self.headers = headers or {}
        self.http = httpx.Client(timeout=TURN_TIMEOUT)

    def send(self, text: str) -> List[Reply]:
        resp = self.http.post(self.url, json={"sender": self.sender, "message": text}, headers=self.headers)
        resp.raise_for_status()
        return [Reply.from_rest(m) for m in resp.json() if visible(m)]

    def close(self) -> None:
        self.http.close()


class SocketCustomer:
    def __init__(self, rasa_url: str, sender: str, auth: Optional[Dict[str, Any]] = None) -> None:
        self.sender = sender
        self.client = socketio.Client(reconnection=False)
        self._lock = threading.Lock()
        self._inbox: List[Reply] = []
        self._last = time.monotonic()
        self._confirmed = threading.Event()

        @self.client.on("bot_uttered")
        def _bot(data: Dict[str, Any]) -> None:
            if not visible(data if isinstance(data, dict) else {"text": str(data)}):
                return
            with self._lock:
                self._inbox.append(Reply.from_rest(data if isinstance(data, dict) else {"text": str(data)}))
                self._last = time.monotonic()

        @self.client.on("session_confirm")
        def _confirm(_data: Any) -> None:
            self._confirmed.set()

        self.client.connect(rasa_url, socketio_path="/socket.io", transports=["websocket"], auth=auth,
                            wait_timeout=10)
        self.client.emit("session_request", {"session_id": sender})
        if not self._confirmed.wait(10):
            raise RuntimeError("socket.io session was not confirmed")

    def send(self, text: str) -> List[Reply]:
        with self._lock:
            self._inbox.clear()
            self._last = time.monotonic()
        started = time.monotonic()
        self.client.emit("user_uttered", {"message": text, "session_id": self.sender})
        while time.monotonic() - started < TURN_TIMEOUT:
            time.sleep(0.05)
            with self._lock:
                if self._inbox and time.monotonic() - self._last >= QUIET:
                    return list(self._inbox)
        with self._lock:
            return list(self._inbox)

    def close(self) -> None:
        self.client.disconnect()


class Queue:
    """What the agents see: this customer's ticket in the live queue."""

    def __init__(self, handoff_url: str, agent_token: str, internal_token: str) -> None:
        self.url = handoff_url
        self.http = httpx.Client(timeout=10, headers={"Authorization": f"Bearer {agent_token}"})
        self.internal = {"Authorization": f"Bearer {internal_token}"}

    def priority_of(self, sender: str, wait: float = 0.0) -> Optional[str]:
        """The priority of ``sender``'s waiting ticket (polling up to ``wait`` s), or None.

        Which ticket is the customer's comes from the bot's side of the bridge
        (/internal/conversations): the agents' queue shows a masked handle only."""
        deadline = time.monotonic() + wait
        while True:
            state = self.http.get(f"{self.url}/internal/conversations/{sender}", headers=self.internal)
            state.raise_for_status()
            tid = state.json().get("ticket_id")
            resp = self.http.get(f"{self.url}/api/queue")
            resp.raise_for_status()
            for ticket in resp.json().get("tickets", []):
                if tid and ticket.get("id") == tid:
                    return str(ticket.get("priority"))
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.1)

    def close(self) -> None:
        self.http.close()
