"""Issue 12, customer identity: the app's signed customer token, against a real stack.

One `python -m bot.runner.stack` on free ports for the module, KEFU_DEV_LOGIN unset,
the customer secret generated into the data dir. Before, a REST or socket.io
caller named any `sender` it liked and the bot asked every customer for an
order number or phone; now a verified token binds the conversation to the
customer (`app-<sub>`), tells the bot the phone, and only the channel can set
the claims (core/identity.py, bot/channels/, actions/forms.py).
"""
from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import httpx
import jwt
import pytest
import redis
import socketio
from starlette.applications import Starlette
from starlette.testclient import TestClient

from core.identity import CLAIMS_KEY, Customer, sign
from core.responses import load_responses
from bot.runner.stack_process import StackProcess
from handoff.app import handoff_error
from handoff.dev_login import DEMO_PHONES, PATH, customer_token_route
from handoff.exceptions import HandoffError
from handoff.settings import Settings
from scripts.seed_orders import CUSTOMERS
from tests.live import LiveStack, tracker_of

CHEN = "13812345678"  # one food order (2023112215300012345), late
LIU = "13900001111"
LIU_FOOD_ORDER = "2023112112000067890"
WHERE_IS_MY_FOOD = "我的外卖到哪了"


@dataclass
class Live(LiveStack):
    redis: "redis.Redis[str]"

    @property
    def secret(self) -> str:
        return (self.data / "customer_jwt.secret").read_text().strip()

    def token(self, sub: str, phone: Optional[str] = CHEN) -> str:
        return sign(Customer(sub=sub, phone=phone or ""), self.secret) if phone else jwt.encode(
            {"sub": sub}, self.secret, algorithm="HS256")

    def tracker(self, sender: str) -> Dict[str, Any]:
        return tracker_of(self.redis, sender)

    def slot(self, sender: str, name: str) -> Any:
        found = [e.get("value") for e in self.tracker(sender)["events"] if e.get("event") == "slot" and e.get("name") == name]
        return found[-1] if found else None


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    data = tmp_path_factory.mktemp("identity")
    env = StackProcess.free_env(data)
    env.pop("KEFU_DEV_LOGIN", None)
    env.pop("KEFU_CUSTOMER_JWT_SECRET", None)
    stack = StackProcess(env)
    client = redis.Redis.from_url(stack.url("redis"), decode_responses=True)
    try:
        yield Live(stack, data, client)
    finally:
        client.close()
        stack.stop()


def texts(name: str) -> List[str]:
    return [str(v["text"]) for v in load_responses()[name]]


def asks_identity(replies: List[Dict[str, Any]]) -> bool:
    questions = texts("utter_ask_order_id") + texts("utter_ask_pick_order")
    return any(m.get("text") in questions for m in replies)


def template_prefix(name: str) -> str:
    """The fixed start of a response, before its first {variable}."""
    return texts(name)[0].split("{", 1)[0]


# ---- REST --------------------------------------------------------------------------------

def test_a_signed_in_customer_is_answered_without_an_identity_question(live: Live) -> None:
    replies = live.say("whoever", WHERE_IS_MY_FOOD, live.token("cust-chen"))
    assert replies and not asks_identity(replies), replies
    assert all(m["recipient_id"] == "app-cust-chen" for m in replies)
    joined = "".join(m.get("text") or "" for m in replies)
    assert "…2345" in joined and "正在路上" in joined, replies  # the order's state, straight away
    assert live.slot("app-cust-chen", "verified") is True
    assert live.slot("app-cust-chen", "verified_phone") == CHEN
    assert not live.tracker("whoever")["events"], "the body's sender must not get a conversation"


@pytest.mark.parametrize("forge", ["wrong_secret", "alg_none", "missing_phone", "bad_phone", "expired", "not_bearer"])
def test_forged_tokens_get_401_and_no_echo(live: Live, forge: str) -> None:
    claims = {"sub": "cust-forger", "phone": CHEN}
    token = {
        "wrong_secret": lambda: jwt.encode(claims, "w" * 40, algorithm="HS256"),
        "alg_none": lambda: jwt.encode(claims, None, algorithm="none"),
        "missing_phone": lambda: live.token("cust-forger", phone=None),
        "bad_phone": lambda: jwt.encode({**claims, "phone": "12345678901"}, live.secret, algorithm="HS256"),
        "expired": lambda: jwt.encode({**claims, "exp": 1_000_000}, live.secret, algorithm="HS256"),
        "not_bearer": lambda: live.token("cust-forger"),
    }[forge]()
    header = f"Basic {token}" if forge == "not_bearer" else f"Bearer {token}"
    resp = httpx.post(f"{live.rasa}/webhooks/kefu/webhook", json={"sender": "f", "message": WHERE_IS_MY_FOOD},
                      headers={"Authorization": header}, timeout=30)
    assert resp.status_code == 401 and resp.json()["error"] == "unauthorized"
    assert token not in resp.text and WHERE_IS_MY_FOOD not in resp.text
    assert not live.tracker("app-cust-forger")["events"] and not live.tracker("f")["events"]


def test_client_supplied_claims_are_ignored(live: Live) -> None:
    forged = {CLAIMS_KEY: {"sub": "cust-chen", "phone": CHEN}, "other": "kept"}
    replies = live.say("anon-forger", WHERE_IS_MY_FOOD, metadata=forged)
    assert asks_identity(replies), replies
    assert live.slot("anon-forger", "verified") is not True
    users = [e for e in live.tracker("anon-forger")["events"] if e.get("event") == "user"]
    assert users and all(CLAIMS_KEY not in (e.get("metadata") or {}) for e in users)


def test_anonymous_callers_cannot_use_a_signed_in_conversation(live: Live) -> None:
    live.say("x", WHERE_IS_MY_FOOD, live.token("cust-taken"))
    before = len(live.tracker("app-cust-taken")["events"])
    resp = live.post({"sender": "app-cust-taken", "message": "我的手机号是多少"})
    assert resp.status_code == 401 and "app-cust-taken" not in resp.text
    assert len(live.tracker("app-cust-taken")["events"]) == before


def test_an_anonymous_rest_sender_can_be_bound_to_its_session_key(live: Live) -> None:
    """The audit: a REST client reusing someone's sender got their order status. A client
    that sends back the key of its first reply owns the sender from then on."""
    first = live.post({"sender": "anon-bound", "message": f"我的外卖到哪了 {CHEN}"})
    key = first.headers.get("X-Kefu-Session")
    assert first.status_code == 200 and key
    again = live.post({"sender": "anon-bound", "message": "你好"})  # not bound yet: as before
    assert again.status_code == 200 and "X-Kefu-Session" not in again.headers  # handed out once only
    bound = httpx.post(f"{live.rasa}/webhooks/kefu/webhook", json={"sender": "anon-bound", "message": "谢谢"},
                       headers={"X-Kefu-Session": key}, timeout=60)
    assert bound.status_code == 200
    before = len(live.tracker("anon-bound")["events"])
    for headers in ({}, {"X-Kefu-Session": "0" * 32}):
        stolen = httpx.post(f"{live.rasa}/webhooks/kefu/webhook", json={"sender": "anon-bound", "message": "我的订单"},
                            headers=headers, timeout=60)
        assert stolen.status_code == 401 and "anon-bound" not in stolen.text and key not in stolen.text
    assert len(live.tracker("anon-bound")["events"]) == before
    other = live.post({"sender": "anon-other", "message": "你好"})
    assert other.headers.get("X-Kefu-Session") not in (None, key)


def test_rasas_stock_rest_channel_is_not_a_way_around_the_gate(live: Live) -> None:
    """The stock `rest` channel skips the guard, the limits and the identity check:
    posting as app-<sub> there reached a signed-in customer's verified conversation."""
    live.say("x", WHERE_IS_MY_FOOD, live.token("cust-stock"))
    before = len(live.tracker("app-cust-stock")["events"])
    resp = httpx.post(f"{live.rasa}/webhooks/rest/webhook",
                      json={"sender": "app-cust-stock", "message": WHERE_IS_MY_FOOD}, timeout=30)
    assert resp.status_code == 404
    assert len(live.tracker("app-cust-stock")["events"]) == before


def test_another_customers_order_number_is_refused(live: Live) -> None:
    replies = live.say("x", f"帮我查一下外卖订单 {LIU_FOOD_ORDER}", live.token("cust-chen-2"))
    assert any((m.get("text") or "").startswith(template_prefix("utter_identity_order_other_phone")) for m in replies), replies
    assert live.slot("app-cust-chen-2", "order_id") != LIU_FOOD_ORDER
    assert live.slot("app-cust-chen-2", "verified") is not True


def test_same_body_sender_different_tokens_are_separate_conversations(live: Live) -> None:
    chen = live.say("shared", WHERE_IS_MY_FOOD, live.token("cust-a", CHEN))
    liu = live.say("shared", WHERE_IS_MY_FOOD, live.token("cust-b", LIU))
    assert {m["recipient_id"] for m in chen} == {"app-cust-a"} and {m["recipient_id"] for m in liu} == {"app-cust-b"}
    assert live.slot("app-cust-a", "verified_phone") == CHEN
    assert live.slot("app-cust-b", "verified_phone") != CHEN  # 刘先生 has several food orders: offered, not guessed
    assert not live.tracker("shared")["events"]


# ---- socket.io --------------------------------------------------------------------------

async def _socket_turn(live: Live, token: str, session_id: str, text: str) -> tuple[str, List[Dict[str, Any]]]:
    client = socketio.AsyncClient()
    answers: "asyncio.Queue[Dict[str, Any]]" = asyncio.Queue()
    confirmed: "asyncio.Queue[str]" = asyncio.Queue()
    client.on("bot_uttered", answers.put_nowait)
    client.on("session_confirm", confirmed.put_nowait)
    await client.connect(live.rasa, socketio_path="/socket.io", transports=["websocket"], auth={"token": token})
    try:
        await client.emit("session_request", {"session_id": session_id})
        session = await asyncio.wait_for(confirmed.get(), 30)
        await client.emit("user_uttered", {"message": text, "session_id": session_id,
                                           "customData": {CLAIMS_KEY: {"sub": "x", "phone": LIU}}})
        got = [await asyncio.wait_for(answers.get(), 60)]
        await asyncio.sleep(2)
        while not answers.empty():
            got.append(answers.get_nowait())
        return session, got
    finally:
        await client.disconnect()


async def test_socketio_with_a_valid_token_is_the_customers_conversation(live: Live) -> None:
    session, replies = await _socket_turn(live, live.token("cust-sock"), "page-picked-id", WHERE_IS_MY_FOOD)
    assert session == "app-cust-sock"
    assert replies and not asks_identity(replies), replies
    assert live.slot("app-cust-sock", "verified_phone") == CHEN  # the token's phone, not the customData one
    assert not live.tracker("page-picked-id")["events"]
    users = [e for e in live.tracker("app-cust-sock")["events"] if e.get("event") == "user"]
    assert users[-1]["metadata"][CLAIMS_KEY] == {"sub": "cust-sock", "phone": CHEN}


@pytest.mark.parametrize("token", ["not-a-jwt", jwt.encode({"sub": "s", "phone": CHEN}, "w" * 40, algorithm="HS256")])
async def test_socketio_with_a_bad_token_is_refused_at_connect(live: Live, token: str) -> None:
    client = socketio.AsyncClient()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(live.rasa, socketio_path="/socket.io", transports=["websocket"], auth={"token": token})
    await client.disconnect()


async def test_socketio_anonymous_cannot_take_a_signed_in_session(live: Live) -> None:
    client = socketio.AsyncClient()
    confirmed: "asyncio.Queue[str]" = asyncio.Queue()
    client.on("session_confirm", confirmed.put_nowait)
    await client.connect(live.rasa, socketio_path="/socket.io", transports=["websocket"])
    try:
        await client.emit("session_request", {"session_id": "app-cust-sock"})
        assert not (await asyncio.wait_for(confirmed.get(), 30)).startswith("app-")
        before = len(live.tracker("app-cust-sock")["events"])
        await client.emit("user_uttered", {"message": "你好", "session_id": "app-cust-sock"})
        await asyncio.sleep(2)
        assert len(live.tracker("app-cust-sock")["events"]) == before
    finally:
        await client.disconnect()


async def _anonymous(live: Live) -> tuple["socketio.AsyncClient", "asyncio.Queue[str]", "asyncio.Queue[Dict[str, Any]]"]:
    client = socketio.AsyncClient()
    confirmed: "asyncio.Queue[str]" = asyncio.Queue()
    answers: "asyncio.Queue[Dict[str, Any]]" = asyncio.Queue()
    client.on("session_confirm", confirmed.put_nowait)
    client.on("bot_uttered", answers.put_nowait)
    await client.connect(live.rasa, socketio_path="/socket.io", transports=["websocket"])
    return client, confirmed, answers


async def test_socketio_a_second_client_cannot_join_a_connected_customers_session(live: Live) -> None:
    """The audit: a second client with the victim's session_id received the victim's replies."""
    victim, v_confirmed, v_answers = await _anonymous(live)
    thief, t_confirmed, t_answers = await _anonymous(live)
    try:
        await victim.emit("session_request", {"session_id": "victim-page-id"})
        assert await asyncio.wait_for(v_confirmed.get(), 30) == "victim-page-id"
        await thief.emit("session_request", {"session_id": "victim-page-id"})
        stolen = await asyncio.wait_for(t_confirmed.get(), 30)
        assert stolen != "victim-page-id"
        await victim.emit("user_uttered", {"message": f"我的手机号 {CHEN}", "session_id": "victim-page-id"})
        assert await asyncio.wait_for(v_answers.get(), 60)
        await asyncio.sleep(2)
        assert t_answers.empty()
    finally:
        await victim.disconnect()
        await thief.disconnect()


async def test_socketio_messages_go_to_the_sockets_own_session(live: Live) -> None:
    """A socket writes only to the conversation confirmed to it, whatever session_id its payload names."""
    owner, o_confirmed, _ = await _anonymous(live)
    other, x_confirmed, x_answers = await _anonymous(live)
    try:
        await owner.emit("session_request", {"session_id": "owner-page-id"})
        await asyncio.wait_for(o_confirmed.get(), 30)
        await other.emit("session_request", {"session_id": "other-page-id"})
        assert await asyncio.wait_for(x_confirmed.get(), 30) == "other-page-id"
        before = len(live.tracker("owner-page-id")["events"])
        await other.emit("user_uttered", {"message": "你好", "session_id": "owner-page-id"})
        assert await asyncio.wait_for(x_answers.get(), 60)  # answered, in its own conversation
        assert len(live.tracker("owner-page-id")["events"]) == before
        assert live.tracker("other-page-id")["events"]
    finally:
        await owner.disconnect()
        await other.disconnect()


async def test_socketio_a_reload_keeps_the_conversation(live: Live) -> None:
    """The customer's own page, reconnecting after the first socket closed, gets its session back."""
    first, confirmed, _ = await _anonymous(live)
    await first.emit("session_request", {"session_id": "reload-page-id"})
    assert await asyncio.wait_for(confirmed.get(), 30) == "reload-page-id"
    await first.disconnect()
    await asyncio.sleep(0.5)
    again, confirmed, _ = await _anonymous(live)
    try:
        await again.emit("session_request", {"session_id": "reload-page-id"})
        assert await asyncio.wait_for(confirmed.get(), 30) == "reload-page-id"
    finally:
        await again.disconnect()


# ---- dev login ---------------------------------------------------------------------------

def test_dev_endpoint_is_404_unless_switched_on(live: Live) -> None:
    resp = httpx.post(live.stack.url("handoff") + PATH, json={"phone": CHEN}, timeout=30)
    assert resp.status_code == 404 and "token" not in resp.json()


def test_dev_endpoint_signs_demo_customers_only(tmp_path: Path) -> None:
    app = Starlette(routes=[customer_token_route(Settings(data_dir=tmp_path), {"KEFU_DEV_LOGIN": "1"})],
                    exception_handlers={HandoffError: handoff_error})
    with TestClient(app, raise_server_exceptions=False) as client:
        signed = client.post(PATH, json={"phone": CHEN})
        assert signed.status_code == 200
        claims = jwt.decode(signed.json()["token"], (tmp_path / "customer_jwt.secret").read_text().strip(),
                            algorithms=["HS256"])
        assert claims["phone"] == CHEN and CHEN not in claims["sub"] and claims["exp"] > claims["iat"]
        assert client.post(PATH, json={"phone": "13800138000"}).status_code == 403
        assert client.post(PATH, json={}).status_code == 400


def test_demo_phones_are_the_seeded_customers() -> None:
    assert DEMO_PHONES == set(CUSTOMERS)
    assert all(re.fullmatch(r"1[3-9]\d{9}", p) for p in DEMO_PHONES)
