"""The customer's side: socket.io and REST channels during a handoff."""
from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any, AsyncIterator, Dict, List, Optional

import httpx
import pytest
import redis

from bot.runner.redis_server import free_port
from core import keys
from tests.conftest import eventually
from tests.handoff.conftest import INTERNAL_TOKEN, ThreadedBridge, add_agents, make_settings


@pytest.fixture()
def bridge_env(monkeypatch: pytest.MonkeyPatch, redis_url: str, tmp_path: Path) -> Any:
    port = free_port()
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("KEFU_HANDOFF_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("KEFU_INTERNAL_TOKEN", INTERNAL_TOKEN)
    monkeypatch.setenv("KEFU_DATA_DIR", str(tmp_path))
    settings = make_settings(redis_url, tmp_path)
    tokens = add_agents(settings.agents_file)
    with ThreadedBridge(settings, port) as bridge:
        yield bridge, tokens


async def intents(text: str) -> Optional[str]:
    return {"司机把车开到荒郊野外了": "report_safety", "算了不需要": "deny"}.get(text)


def escalate(url: str, sender: str, channel: str) -> Dict[str, Any]:
    resp = httpx.post(url + "/internal/escalate", headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"},
                      json={"sender": sender, "channel": channel, "reason": "request_human"})
    assert resp.status_code == 201
    return dict(resp.json())


async def test_gate_answers_waiting_customers_from_the_domain(bridge_env: Any, redis_url: str) -> None:
    from bot.channels.gate import HandoffGate

    bridge, _ = bridge_env
    gate = HandoffGate()
    assert await gate.handle("nobody", "你好", intents) == [], "a conversation not in handoff is left to the bot"
    escalate(bridge.url, "g0", "kefu")
    escalate(bridge.url, "g1", "kefu")

    notices = await gate.handle("g1", "还要等多久?", intents)
    assert notices[0]["metadata"]["kind"] == "queue_position" and "第 2 位" in notices[0]["text"]
    notices = await gate.handle("g1", "還要等多久?", intents)
    assert "您目前排在第 2 位" in notices[0]["text"] or "您現在排在第 2 位" in notices[0]["text"], notices

    notices = await gate.handle("g1", "司机把车开到荒郊野外了", intents)
    assert "110" in notices[0]["text"]
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    tid = r.get(keys.conversation("g1")).split(":")[1]
    assert r.hget(keys.ticket(tid), "priority") == "P0" and r.zrange(keys.QUEUE, 0, 0) == [tid]
    texts = [f["text"] for _, f in r.xrange(keys.transcript("g1"))]
    assert texts == ["还要等多久?", "還要等多久?", "司机把车开到荒郊野外了"]

    notices = await gate.handle("g0", "不用了", intents)
    assert notices[0]["metadata"]["kind"] == "queue_left"
    assert r.get(keys.conversation("g0")) is None
    assert bridge.recorder.events["g0"] == [{"event": "resume"}], "the bot must answer again"


async def test_gate_passes_everything_to_the_bot_when_redis_is_down() -> None:
    from bot.channels.gate import HandoffGate

    gate = HandoffGate(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    started = time.monotonic()
    assert await gate.handle("c1", "转人工", intents) == []
    assert time.monotonic() - started < 2


class StubAgent:
    """Stands in for rasa's Agent on app.ctx: records messages, answers when not paused."""

    def __init__(self) -> None:
        self.received: List[Any] = []

    async def handle_message(self, message: Any) -> None:
        self.received.append(message)
        if not message.text.startswith("还"):
            await message.output_channel.send_text_message(message.sender_id, "机器人回复")

    async def parse_message(self, text: str) -> Dict[str, Any]:
        return {"intent": {"name": await intents(text)}}


class SanicChannel:
    """A Sanic app with both channels registered the way Rasa registers them."""

    def __init__(self) -> None:
        from rasa.core.channels.channel import register
        from sanic import Sanic

        from bot.channels.rest_input import KefuRestInput
        from bot.channels.socketio_input import KefuSocketIOInput

        Sanic.test_mode = True
        self.app = Sanic(f"kefu_test_{uuid.uuid4().hex[:8]}")
        self.agent = StubAgent()
        self.app.ctx.agent = self.agent
        self.port = free_port()
        channels = [KefuSocketIOInput.from_credentials({"session_persistence": True}), KefuRestInput.from_credentials(None)]
        register(channels, self.app, route="/webhooks/")
        self.server: Any = None

    @property
    def received(self) -> List[Any]:
        return self.agent.received

    async def start(self) -> None:
        self.server = await self.app.create_server(host="127.0.0.1", port=self.port, return_asyncio_server=True)
        await self.server.startup()
        await self.server.before_start()
        await self.server.after_start()

    async def stop(self) -> None:
        await self.server.before_stop()
        await self.server.close()
        await self.server.after_stop()


@pytest.fixture()
async def channel(bridge_env: Any) -> AsyncIterator[SanicChannel]:
    ch = SanicChannel()
    await ch.start()
    yield ch
    await ch.stop()


async def test_socketio_customer_talks_with_an_agent(bridge_env: Any, channel: SanicChannel) -> None:
    import socketio

    bridge, tokens = bridge_env
    got: "asyncio.Queue[Dict[str, Any]]" = asyncio.Queue()
    client = socketio.AsyncClient()
    client.on("bot_uttered", lambda data: got.put_nowait(data))
    confirmed = asyncio.Event()
    client.on("session_confirm", lambda data: confirmed.set())
    await client.connect(f"http://127.0.0.1:{channel.port}", socketio_path="/socket.io", transports=["websocket"])
    try:
        await client.emit("session_request", {"session_id": "web-1"})
        await asyncio.wait_for(confirmed.wait(), 5)
        escalate(bridge.url, "web-1", "kefu_socketio")

        await client.emit("user_uttered", {"message": "还有多久", "session_id": "web-1"})
        position = await asyncio.wait_for(got.get(), 5)
        assert position["metadata"]["kind"] == "queue_position" and "第 1 位" in position["text"]
        await eventually(lambda: channel.received, "the message must still reach Rasa")
        assert [m.text for m in channel.received] == ["还有多久"]

        agent = {"Authorization": f"Bearer {tokens['gen1']}"}
        async with httpx.AsyncClient(base_url=bridge.url, headers=agent) as http:
            tid = (await http.get("/api/queue")).json()["tickets"][0]["id"]
            assert (await http.post(f"/api/tickets/{tid}/claim")).status_code == 200
            joined = await asyncio.wait_for(got.get(), 5)
            assert joined["metadata"]["kind"] == "agent_joined" and "小李" in joined["text"]
            await http.post(f"/api/tickets/{tid}/messages", json={"text": "您好,我来帮您查一下"})
            said = await asyncio.wait_for(got.get(), 5)
            assert said == {"text": "您好,我来帮您查一下", "metadata": {"from": "agent", "agent_name": "小李"}}
            await client.emit("user_uttered", {"message": "还是没到", "session_id": "web-1"})

            async def last_is_the_customer() -> Any:
                transcript = (await http.get(f"/api/tickets/{tid}")).json()["transcript"]
                return transcript if transcript[-1]["role"] == "user" else None

            transcript = await eventually(last_is_the_customer, "the customer's message never reached the agent")
            assert [m["role"] for m in transcript][-2:] == ["agent", "user"]
            assert transcript[-1]["text"] == "还是没到"
            await asyncio.sleep(0.3)  # give a stray reply time to show up
            assert got.empty(), "nothing else is said to the customer while an agent is on"
    finally:
        await client.disconnect()


async def test_rest_customer_gets_the_position_and_the_bot_still_logs(bridge_env: Any, channel: SanicChannel) -> None:
    bridge, _ = bridge_env
    escalate(bridge.url, "rest-9", "kefu")
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{channel.port}") as http:
        replies = (await http.post("/webhooks/kefu/webhook", json={"sender": "rest-9", "message": "还在吗"})).json()
        assert replies[0]["metadata"]["kind"] == "queue_position" and "第 1 位" in replies[0]["text"]
        plain = (await http.post("/webhooks/kefu/webhook", json={"sender": "other", "message": "你好"})).json()
        assert plain == [{"recipient_id": "other", "text": "机器人回复"}]
    assert [m.text for m in channel.received] == ["还在吗", "你好"]
