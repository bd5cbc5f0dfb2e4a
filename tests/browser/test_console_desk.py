"""The agent console's desk (issue 15 items 10-14): keyboard, confirmations and per-chat
selections, the customer panel, labels, narrow screens; and the supervisor's day and charts."""
from __future__ import annotations

import re
import time
from datetime import date, timedelta

import httpx
from playwright.sync_api import expect

from tests.browser.conftest import LiveStack, Scenario, Screenshots, console_login
from tests.browser.helpers import claim_in_console, db, rest_customer_waiting, sender_of, ticket_for, transcript

WIDE = {"width": 1440, "height": 900}
PHONE = {"width": 375, "height": 740}


def resolve_all(stack: LiveStack, agent: str) -> None:
    headers = stack.agent_headers(agent)
    for t in httpx.get(f"{stack.handoff}/api/chats", headers=headers).json()["tickets"]:
        httpx.post(f"{stack.handoff}/api/tickets/{t['id']}/resolve", headers=headers)


def test_keyboard_shortcuts_focus_and_names(stack: LiveStack, scenario: Scenario, shot: Screenshots) -> None:
    """Item 10: Enter sends, Shift+Enter is a new line, Alt+N / Alt+1..9 / Alt+R, focus survives re-renders."""
    resolve_all(stack, "gen1")
    rest_customer_waiting(stack)
    second = rest_customer_waiting(stack)
    agent = scenario.page(WIDE)
    console_login(agent, stack, "gen1")
    expect(agent.locator("#transcript")).to_have_attribute("aria-live", "polite")
    names = agent.locator("#queue button.claim").evaluate_all("bs => bs.map(b => b.getAttribute('aria-label'))")
    assert len(names) >= 2 and len(set(names)) == len(names) and all(n.startswith("接入 ") and "客户" in n for n in names)

    # Focus stays on the same ticket's button when the queue re-renders (a new customer arrives).
    tid = ticket_for(stack, second)["id"]
    agent.locator(f"#queue button.claim[data-ticket='{tid}']").focus()
    third = rest_customer_waiting(stack)
    expect(agent.locator("#queue li.ticket")).to_have_count(len(names) + 1, timeout=10_000)
    assert agent.evaluate("document.activeElement.dataset.ticket") == tid

    agent.click("#shortcuts-toggle")
    expect(agent.locator("#shortcuts")).to_contain_text("Alt+N")
    expect(agent.locator("#shortcuts")).to_contain_text("Shift+Enter")
    agent.click("#shortcuts-toggle")

    waiting = httpx.get(f"{stack.handoff}/api/queue", headers=stack.agent_headers("gen1")).json()["tickets"]
    oldest = [t["id"] for t in waiting if t["eligible"]][:2]  # take next: in queue order
    agent.keyboard.press("Alt+n")
    expect(agent.locator("#tabs button")).to_have_count(1, timeout=10_000)
    agent.keyboard.press("Alt+n")
    expect(agent.locator("#tabs button")).to_have_count(2, timeout=10_000)
    held = httpx.get(f"{stack.handoff}/api/chats", headers=stack.agent_headers("gen1")).json()["tickets"]
    assert sorted(t["id"] for t in held) == sorted(oldest)

    agent.keyboard.press("Alt+1")
    expect(agent.locator("#tabs button").nth(0)).to_have_class(re.compile(r"\bactive\b"))
    active = agent.locator("#tabs button.active").get_attribute("data-ticket")
    sender = sender_of(stack, active)
    reply = agent.locator("#reply")
    reply.click()
    reply.type("您好")
    reply.press("Shift+Enter")
    reply.type("我来为您处理")
    expect(reply).to_have_value("您好\n我来为您处理")
    reply.press("Enter")
    expect(reply).to_have_value("", timeout=10_000)
    assert "您好\n我来为您处理" in [m["text"] for m in transcript(stack, sender) if m["role"] == "agent"]
    agent.keyboard.press("Alt+2")
    expect(agent.locator("#tabs button").nth(1)).to_have_class(re.compile(r"\bactive\b"))

    agent.keyboard.press("Alt+r")  # resolve asks first
    expect(agent.locator("#confirm")).to_be_visible()
    agent.keyboard.press("Escape")
    expect(agent.locator("#confirm")).to_be_hidden()
    expect(agent.locator("#tabs button")).to_have_count(2)
    agent.keyboard.press("Alt+r")
    agent.keyboard.press("Enter")  # the focused 确认
    expect(agent.locator("#tabs button")).to_have_count(1, timeout=10_000)
    shot(agent, "console-keyboard-shortcuts")
    resolve_all(stack, "gen1")
    ticket_for(stack, third)
    resolve_all(stack, "gen1")


def test_selections_reset_per_chat_and_closing_asks_first(stack: LiveStack, scenario: Scenario) -> None:
    """Item 11: a transfer or hand-back choice and a draft stay with their chat; cancel keeps the chat."""
    resolve_all(stack, "gen1")
    a, b = rest_customer_waiting(stack), rest_customer_waiting(stack)
    agent = scenario.page(WIDE)
    console_login(agent, stack, "gen1")
    claim_in_console(agent, ticket_for(stack, a))
    claim_in_console(agent, ticket_for(stack, b))
    tabs = agent.locator("#tabs button")
    tabs.nth(0).click()
    agent.select_option("#transfer-to", "skill:supervisor")
    agent.select_option("#handback-flow", "refund")
    agent.fill("#reply", "给第一位客户的草稿")
    tabs.nth(1).click()
    expect(agent.locator("#tabs button").nth(1)).to_have_class(re.compile(r"\bactive\b"))
    expect(agent.locator("#transfer-to")).to_have_value("")
    expect(agent.locator("#handback-flow")).to_have_value("")
    expect(agent.locator("#reply")).to_have_value("")
    agent.locator("#tabs button").nth(0).click()
    expect(agent.locator("#reply")).to_have_value("给第一位客户的草稿")

    for button, option in (("#transfer", ("#transfer-to", "skill:supervisor")), ("#handback", ("#handback-flow", "refund"))):
        agent.select_option(*option)
        agent.click(button)
        expect(agent.locator("#confirm")).to_be_visible()
        agent.click("#confirm-cancel")
        expect(agent.locator("#tabs button")).to_have_count(2)
    agent.click("#resolve")
    expect(agent.locator("#confirm-text")).to_contain_text("已解决")
    agent.click("#confirm-ok")
    expect(agent.locator("#tabs button")).to_have_count(1, timeout=10_000)
    resolve_all(stack, "gen1")


def test_customer_panel_history_notes_reveal_and_alerts(stack: LiveStack, scenario: Scenario, shot: Screenshots) -> None:
    """Item 12: order, earlier conversation, notes, timestamps, reveal (audited), sound/title, unread, REST presence."""
    resolve_all(stack, "gen1")
    agent = scenario.page(WIDE)
    console_login(agent, stack, "gen1")
    sender = rest_customer_waiting(stack)
    expect(agent.locator("body")).to_have_attribute("data-chat-sound", re.compile(r"[1-9]"), timeout=10_000)
    expect(agent).to_have_title(re.compile("新会话"))
    ticket = ticket_for(stack, sender)
    claim_in_console(agent, ticket)
    expect(agent).to_have_title("客服工作台")
    agent.fill("#note", "客户在小区门口等,电话 13912345678 已打不通")
    agent.click("#add-note")
    expect(agent.locator("#p-notes li")).to_have_count(1)
    expect(agent.locator("#p-notes")).to_contain_text("139****5678")
    expect(agent.locator("#p-notes")).not_to_contain_text("13912345678")
    agent.click("#resolve")
    agent.click("#confirm-ok")
    expect(agent.locator("#tabs button")).to_have_count(0, timeout=10_000)

    # The same customer comes back: the earlier conversation and its note count are beside the chat.
    stack.rest(sender, "还是没到,转人工")
    second = ticket_for(stack, sender)
    other = rest_customer_waiting(stack)
    claim_in_console(agent, second)
    expect(agent.locator("#p-history li")).to_have_count(1)
    expect(agent.locator("#transcript")).not_to_contain_text("EXTERNAL")  # no trigger intent as a customer turn
    expect(agent.locator("#p-history")).to_contain_text("已解决")
    expect(agent.locator("#p-history")).to_contain_text("备注 1 条")
    for shown in ("配送中", "王师傅", "¥38.50", "138****5678"):
        expect(agent.locator("#p-order")).to_contain_text(shown)
    expect(agent.locator("#p-order")).not_to_contain_text("13812345678")
    expect(agent.locator("#t-presence")).to_contain_text("消息渠道")  # a REST customer has no page to leave
    expect(agent.locator("#transcript .turn time.ts").first).to_have_text(re.compile(r"\d{2}:\d{2}:\d{2}"))

    # Reveal one masked value: shown to the agent holding the chat, written to the audit.
    stack.rest(sender, "我的手机号是13812345678")
    turn = agent.locator("#transcript .turn.customer").filter(has_text="138****5678").last
    expect(turn).to_be_visible(timeout=10_000)
    turn.locator("button.reveal").click()
    expect(turn.locator(".revealed")).to_contain_text("手机号:13812345678")
    audit = [f for _, f in db(stack).xrange("kefu:handoff:audit") if f.get("action") == "reveal"]
    assert any(f["ticket_id"] == second["id"] and f["by"] == "gen1" for f in audit)
    assert not any("13812345678" in str(f) for f in audit)
    shot(agent, "console-customer-panel-history-notes-reveal")

    # A reply on the chat not shown: an unread count on its tab, the title, a sound.
    claim_in_console(agent, ticket_for(stack, other))
    sounds = int(agent.locator("body").get_attribute("data-reply-sound") or 0)
    stack.rest(sender, "请尽快")
    badge = agent.locator(f"#tabs button[data-ticket='{second['id']}'] .unread")
    expect(badge).to_have_text("1", timeout=10_000)
    expect(agent).to_have_title("(1)客服工作台")
    assert int(agent.locator("body").get_attribute("data-reply-sound") or 0) == sounds + 1
    agent.locator(f"#tabs button[data-ticket='{second['id']}']").click()
    expect(badge).to_have_count(0)
    resolve_all(stack, "gen1")


def test_labels_network_error_favicon_and_supervisor_day(stack: LiveStack, scenario: Scenario) -> None:
    """Item 13: a Chinese network message, no doubled safety label, a favicon, the supervisor's day."""
    icon = httpx.get(f"{stack.handoff}/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/")
    httpx.get(f"{stack.handoff}/api/me", headers=stack.agent_headers("safe2"))
    agent = scenario.page(WIDE)
    console_login(agent, stack, "safe1")
    sender = f"rest-label-{int(time.time())}"
    stack.rest(sender, "司机一直跟着我,还威胁我,我好害怕")
    ticket = ticket_for(stack, sender, agent="safe1")
    card = agent.locator(f"#queue li.ticket[data-ticket='{ticket['id']}']")
    expect(card).to_be_visible(timeout=10_000)
    assert "安全问题 · 安全问题" not in card.inner_text()
    claim_in_console(agent, ticket)
    assert "安全问题 · 安全问题" not in agent.locator(".ticket-head").inner_text()
    agent.route("**/messages", lambda route: route.abort())
    agent.fill("#reply", "请您先到安全的地方")
    agent.click("#send")
    expect(agent.locator("#notice")).to_have_text("发送失败:网络连接失败,请检查网络后重试")
    agent.unroute("**/messages")
    resolve_all(stack, "safe1")

    boss = scenario.page(WIDE)
    boss.goto(stack.handoff + "/supervisor")
    boss.fill("#token", stack.tokens["sup1"])
    boss.click("#login-form button[type=submit]")
    expect(boss.locator("#board")).to_be_visible()
    today = boss.evaluate("(() => { const d = new Date(); return d.getFullYear() + '-' + String(d.getMonth() + 1).padStart(2, '0') + '-' + String(d.getDate()).padStart(2, '0'); })()")
    expect(boss.locator("#day")).to_have_value(today)
    expect(boss.locator(".day-word").first).to_have_text("今日")
    earlier = (date.fromisoformat(today) - timedelta(days=3))
    boss.fill("#day", earlier.isoformat())
    boss.dispatch_event("#day", "change")
    expect(boss.locator(".day-word").first).to_have_text(f"{earlier.month}月{earlier.day}日")
    assert "今日" not in boss.locator(".cards").inner_text()


def test_narrow_console_and_readable_supervisor_charts(stack: LiveStack, scenario: Scenario, shot: Screenshots) -> None:
    """Item 14: at 375 px the chat pane is the screen's width; chart labels are at least 11 px."""
    resolve_all(stack, "gen1")
    sender = rest_customer_waiting(stack)
    agent = scenario.page(PHONE, is_mobile=True, has_touch=True)
    console_login(agent, stack, "gen1")
    claim_in_console(agent, ticket_for(stack, sender))
    pane = agent.locator(".chat-pane").bounding_box()
    assert pane["width"] >= 340, pane
    for selector in ("#reply", "#send", "#transcript"):
        b = agent.locator(selector).bounding_box()
        assert b["x"] >= 0 and b["x"] + b["width"] <= 376, (selector, b)
    assert agent.evaluate("document.documentElement.scrollWidth") <= 376
    shot(agent, "console-at-375px")
    resolve_all(stack, "gen1")

    for viewport in (PHONE, WIDE):
        boss = scenario.page(viewport)
        boss.goto(stack.handoff + "/supervisor")
        boss.fill("#token", stack.tokens["sup1"])
        boss.click("#login-form button[type=submit]")
        expect(boss.locator("#chart-queue svg text").first).to_be_visible()
        sizes = boss.locator(".chart svg text").evaluate_all(
            "ts => ts.map(t => t.getBoundingClientRect().height)")
        assert sizes and min(sizes) >= 11, (viewport, min(sizes))
        clipped = boss.locator(".chart svg text").evaluate_all(
            "ts => ts.filter(t => { const s = t.ownerSVGElement.getBoundingClientRect(), r = t.getBoundingClientRect(),"
            " f = t.closest('figure').getBoundingClientRect(); return r.right > s.right + 1 || r.right > f.right + 1"
            " || r.left < f.left - 1; }).map(t => t.textContent)")
        assert not clipped, (viewport, clipped)
    shot(boss, "supervisor-readable-charts")
