"""The agent console through a real shift (issue 15 items 1, 2, 3, 6, 8, 9; issue 13's console
part), in Debian's chromium against the real stack."""
from __future__ import annotations

import re
import time
from typing import Any

import httpx
import yaml
from playwright.sync_api import Route, expect

from core.paths import ROOT
from tests.browser.conftest import LEASE_SECONDS, LiveStack, Scenario, Screenshots, console_login
from tests.browser.helpers import (
    ORDER, claim_in_console, conversation_state, held_by, rest_customer_waiting, ticket_for, ticket_id_of, transcript,
)

WIDE = {"width": 1440, "height": 900}
FALLBACK_WORDS = ("没理解", "没有理解", "换个说法")


def test_hand_back_to_a_real_flow(stack: LiveStack, scenario: Scenario, shot: Screenshots) -> None:
    """Item 1: every flow offered is one the bot has; the customer gets that flow, no fallback, no new ticket."""
    flows = yaml.safe_load((ROOT / "data" / "policies.yml").read_text(encoding="utf-8"))["flow_names"]
    sender = rest_customer_waiting(stack)
    agent = scenario.page(WIDE)
    console_login(agent, stack, "gen1")
    offered = agent.locator("#handback-flow option").evaluate_all("os => os.map(o => o.value).filter(Boolean)")
    assert offered and set(offered) == set(flows), offered
    claim_in_console(agent, ticket_for(stack, sender))
    before = len(transcript(stack, sender))

    agent.select_option("#handback-flow", "status")
    agent.click("#handback")
    expect(agent.locator("#confirm")).to_be_visible()
    expect(agent.locator("#confirm-text")).to_contain_text("查询订单")
    agent.click("#confirm-ok")
    expect(agent.locator("#tabs button")).to_have_count(0)

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(transcript(stack, sender)) < before + 2:
        time.sleep(0.3)
    after = [m["text"] for m in transcript(stack, sender)[before:] if m["role"] == "bot"]
    assert any("智能客服" in t for t in after), after
    assert any("王师傅" in t or "订单" in t for t in after[1:]), after  # the status flow's answer
    assert not any(w in t for t in after for w in FALLBACK_WORDS), after
    assert conversation_state(stack, sender) is None  # the bot has it back: not queued again

    # The customer writes on: the bot answers (no person, no queue).
    replies = " ".join(m.get("text") or "" for m in stack.rest(sender, ORDER))
    assert replies and conversation_state(stack, sender) is None

    # A customer not yet verified, handed back to the refund flow: its first question, the order number.
    unverified = rest_customer_waiting(stack, "你好")
    claim_in_console(agent, ticket_for(stack, unverified))
    before = len(transcript(stack, unverified))
    agent.select_option("#handback-flow", "refund")
    agent.click("#handback")
    agent.click("#confirm-ok")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(transcript(stack, unverified)) < before + 2:
        time.sleep(0.3)
    asked = [m["text"] for m in transcript(stack, unverified)[before:] if m["role"] == "bot"]
    assert any("订单号" in t for t in asked), asked
    assert not any(w in t for t in asked for w in FALLBACK_WORDS), asked
    assert conversation_state(stack, unverified) is None
    replies = " ".join(m.get("text") or "" for m in stack.rest(unverified, ORDER))
    assert "退" in replies, replies  # the refund flow goes on with the order
    # A flow the bot does not have is refused by the bridge, not turned into fallbacks.
    again = rest_customer_waiting(stack, "我要退款")
    ticket = ticket_for(stack, again)
    assert "EXTERNAL_handoff_handback" not in str(ticket["intents"])
    headers = stack.agent_headers("gen1")
    assert httpx.post(f"{stack.handoff}/api/tickets/{ticket['id']}/claim", headers=headers).status_code == 200
    bad = httpx.post(f"{stack.handoff}/api/tickets/{ticket['id']}/handback", json={"flow": "order_status"}, headers=headers)
    assert bad.status_code == 400 and "status" in bad.json()["detail"]
    assert conversation_state(stack, again).startswith("active:")
    httpx.post(f"{stack.handoff}/api/tickets/{ticket['id']}/resolve", headers=headers)


def test_long_chat_keeps_the_newest_turn_and_the_composer_in_view(
        stack: LiveStack, scenario: Scenario, shot: Screenshots) -> None:
    """Item 2: at 1440x900 with a 25-turn chat the transcript scrolls on its own, newest turn shown."""
    sender = rest_customer_waiting(stack)
    agent = scenario.page(WIDE)
    console_login(agent, stack, "gen1")
    claim_in_console(agent, ticket_for(stack, sender))
    for i in range(1, 26):
        stack.rest(sender, f"第 {i} 条补充:骑手还没到,我在小区门口等")
    last = agent.locator("#transcript .turn.customer").filter(has_text="第 25 条补充")
    expect(last).to_be_visible(timeout=20_000)
    turns = agent.locator("#transcript .turn").count()
    assert turns >= 25
    box = agent.locator("#transcript").bounding_box()
    scroll = agent.locator("#transcript").evaluate("n => [n.scrollHeight, n.clientHeight, n.scrollTop]")
    assert scroll[0] > scroll[1], "the transcript is its own scroll area"
    assert box["y"] + box["height"] <= 900
    for selector in ("#reply", "#send", "#resolve"):
        b = agent.locator(selector).bounding_box()
        assert b and 0 <= b["y"] and b["y"] + b["height"] <= 900, (selector, b)
    end = last.bounding_box()
    assert box["y"] <= end["y"] and end["y"] + end["height"] <= box["y"] + box["height"] + 1, (end, box)
    first = agent.locator("#transcript .turn").first.bounding_box()
    assert first["y"] + first["height"] < box["y"], "the oldest turns are scrolled away, not first"
    expect(agent.locator("#p-order")).to_contain_text("王师傅")
    shot(agent, "console-long-chat-composer-in-view-customer-panel")
    httpx.post(f"{stack.handoff}/api/tickets/{ticket_for_held(stack, sender)}/resolve", headers=stack.agent_headers("gen1"))


def ticket_for_held(stack: LiveStack, sender: str, agent: str = "gen1") -> str:
    chats = httpx.get(f"{stack.handoff}/api/chats", headers=stack.agent_headers(agent)).json()["tickets"]
    tid = ticket_id_of(stack, sender)
    return next(t["id"] for t in chats if t["id"] == tid)


def test_lease_renewed_over_http_and_a_lost_chat_said_plainly(
        stack: LiveStack, scenario: Scenario, shot: Screenshots) -> None:
    """Item 3 / issue 13: with no WebSocket the chat stays held; when it is lost the console says so."""
    sender = rest_customer_waiting(stack)
    agent = scenario.page(WIDE)
    agent.route_web_socket("**/ws/agent**", lambda ws: None)  # the WebSocket never reaches the bridge
    agent.goto(stack.handoff + "/console")
    agent.fill("#token", stack.tokens["gen1"])
    agent.click("#login-form button[type=submit]")
    expect(agent.locator("#app")).to_be_visible()
    ticket = ticket_for(stack, sender)
    claim_in_console(agent, ticket)

    time.sleep(LEASE_SECONDS * 2)  # two leases with no WebSocket heartbeat
    assert ticket["id"] in held_by(stack, "gen1"), "the HTTP renewal kept the chat"
    assert conversation_state(stack, sender).startswith("active:")

    # Now HTTP renewals fail too: the lease runs out, the chat goes back to the queue...
    agent.route("**/api/chats/renew", lambda route: route.abort())
    deadline = time.monotonic() + LEASE_SECONDS * 4
    while time.monotonic() < deadline and ticket["id"] in held_by(stack, "gen1"):
        time.sleep(0.5)
    assert ticket["id"] not in held_by(stack, "gen1")
    assert conversation_state(stack, sender).startswith("waiting:")
    # ...and when the console reaches the bridge again it says so plainly and drops the tab.
    agent.unroute("**/api/chats/renew")
    expect(agent.locator("#notice")).to_contain_text("已不再由您接待", timeout=LEASE_SECONDS * 1000)
    expect(agent.locator(f"#tabs button[data-ticket='{ticket['id']}']")).to_have_count(0)
    expect(agent.locator(f"#queue li.ticket[data-ticket='{ticket['id']}']")).to_be_visible()  # back in the queue
    shot(agent, "console-chat-lost-said-plainly")


def test_reconnect_reloads_owned_chats(stack: LiveStack, scenario: Scenario) -> None:
    """Issue 13: every WebSocket reconnect reloads GET /api/chats (a chat whose events were missed appears)."""
    agent = scenario.page(WIDE)
    relay = {"on": True}
    pages: list = []

    def through(ws: Any) -> None:
        pages.append(ws)
        server = ws.connect_to_server()
        server.on_message(lambda message: ws.send(message) if relay["on"] else None)
        ws.on_message(lambda message: server.send(message))

    agent.route_web_socket("**/ws/agent**", through)
    console_login(agent, stack, "safe2")
    sender = rest_customer_waiting(stack)
    ticket = ticket_for(stack, sender, agent="safe2")
    relay["on"] = False  # the console misses every live event from now on
    claimed = httpx.post(f"{stack.handoff}/api/tickets/{ticket['id']}/claim", headers=stack.agent_headers("safe2"))
    assert claimed.status_code == 200
    time.sleep(2)
    expect(agent.locator(f"#tabs button[data-ticket='{ticket['id']}']")).to_have_count(0)
    calls: list = []
    agent.on("request", lambda r: calls.append(r.url) if r.url.endswith("/api/chats") else None)
    relay["on"] = True
    pages[-1].close()  # the connection drops; the console reconnects
    expect(agent.locator(f"#tabs button[data-ticket='{ticket['id']}']")).to_be_visible(timeout=15_000)
    assert calls, "the reconnect asked the bridge which chats this agent holds"
    httpx.post(f"{stack.handoff}/api/tickets/{ticket['id']}/resolve", headers=stack.agent_headers("safe2"))


def test_slow_bridge_cannot_make_the_agent_send_twice(stack: LiveStack, scenario: Scenario) -> None:
    """Item 6: the send button is disabled in flight; a retry after a lost answer is not sent again."""
    sender = rest_customer_waiting(stack)
    agent = scenario.page(WIDE)
    console_login(agent, stack, "gen1")
    claim_in_console(agent, ticket_for(stack, sender))

    def slow(route: Route) -> None:
        time.sleep(2.5)
        route.continue_()

    agent.route("**/messages", slow)
    agent.fill("#reply", "您好,我这边正在为您催促骑手")
    agent.click("#send")
    expect(agent.locator("#send")).to_be_disabled()
    agent.locator("#send").click(force=True)
    agent.locator("#reply").press("Enter")
    expect(agent.locator("#reply")).to_have_value("", timeout=15_000)
    agent.unroute("**/messages")

    # The answer is lost after the bridge sent it: the agent clicks again, the bridge knows the key.
    def lost(route: Route) -> None:
        route.fetch()
        route.abort()

    agent.route("**/messages", lost, times=1)
    agent.fill("#reply", "已为您加急处理")
    agent.click("#send")
    expect(agent.locator("#notice")).to_contain_text("网络连接失败")
    expect(agent.locator("#notice")).not_to_contain_text("Failed to fetch")
    agent.click("#send")
    expect(agent.locator("#reply")).to_have_value("", timeout=15_000)
    expect(agent.locator("#notice")).to_contain_text("没有重复发送")
    agent_lines = [m["text"] for m in transcript(stack, sender) if m["role"] == "agent"]
    assert agent_lines.count("您好,我这边正在为您催促骑手") == 1, agent_lines
    assert agent_lines.count("已为您加急处理") == 1, agent_lines
    httpx.post(f"{stack.handoff}/api/tickets/{ticket_for_held(stack, sender)}/resolve", headers=stack.agent_headers("gen1"))


def test_forbidden_phrase_stops_sending(stack: LiveStack, scenario: Scenario, shot: Screenshots) -> None:
    """Item 8: the warning blocks the button and Enter; the bridge refuses it too (no override)."""
    sender = rest_customer_waiting(stack)
    agent = scenario.page(WIDE)
    console_login(agent, stack, "gen1")
    ticket = ticket_for(stack, sender)
    claim_in_console(agent, ticket)
    agent.fill("#reply", "你等着吧,这个我也不知道")
    expect(agent.locator("#reply-warning")).to_contain_text("不能发送")
    expect(agent.locator("#send")).to_be_disabled()
    agent.locator("#reply").press("Enter")
    agent.locator("#send").click(force=True)
    shot(agent, "console-forbidden-phrase-blocks-sending")
    refused = httpx.post(f"{stack.handoff}/api/tickets/{ticket['id']}/messages", headers=stack.agent_headers("gen1"),
                         json={"text": "你等着吧,这个我也不知道"})
    assert refused.status_code == 422 and refused.json()["error"] == "forbidden_phrase"
    assert "我查一下再给您答复" in refused.json()["detail"]
    time.sleep(1)
    assert not [m for m in transcript(stack, sender) if m["role"] == "agent"]
    agent.fill("#reply", "我查一下再给您答复")
    expect(agent.locator("#send")).to_be_enabled()
    httpx.post(f"{stack.handoff}/api/tickets/{ticket['id']}/resolve", headers=stack.agent_headers("gen1"))


def test_not_eligible_shows_the_reason_and_the_card_is_marked(
        stack: LiveStack, scenario: Scenario, shot: Screenshots) -> None:
    """Item 9: a safety chat while a safety agent is online: marked for a general agent; the 409 says why."""
    httpx.get(f"{stack.handoff}/api/me", headers=stack.agent_headers("safe2"))  # a safety agent is online
    agent = scenario.page(WIDE)
    console_login(agent, stack, "gen1")
    sender = f"rest-safety-{int(time.time())}"
    stack.rest(sender, "司机一直跟着我,还威胁我,我好害怕")
    ticket = ticket_for(stack, sender)
    card = agent.locator(f"#queue li.ticket[data-ticket='{ticket['id']}']")
    expect(card).to_have_class(re.compile(r"\bineligible\b"), timeout=10_000)
    expect(card.locator(".why")).to_contain_text("安全专员")
    httpx.get(f"{stack.handoff}/api/me", headers=stack.agent_headers("safe2"))
    card.locator("button.claim").click()
    expect(agent.locator("#notice")).to_have_text("该会话需要由具备相应技能的坐席接入")
    expect(agent.locator("#notice")).not_to_contain_text("其他坐席")
    shot(agent, "console-not-eligible-reason")
    safe = stack.agent_headers("safe2")
    assert httpx.post(f"{stack.handoff}/api/tickets/{ticket['id']}/claim", headers=safe).status_code == 200
    httpx.post(f"{stack.handoff}/api/tickets/{ticket['id']}/resolve", headers=safe)
