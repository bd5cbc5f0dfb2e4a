"""The customer's chat page on a phone (375 px), against the real stack.

Issue 15: a reload keeps the conversation (the messages, the safety advice,
the place in line, the same conversation so an agent's message still
arrives); the latest message is never hidden under the queue banner or the
rating buttons; a typed rating counts, on our page and in the stock
rasa-webchat widget; the safety advice reaches the customer once; the input
is large enough that iOS does not zoom.
"""
from __future__ import annotations

import re
import time
from typing import Any, Dict, Iterator, List

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveStack, Screenshots
from tests.browser.helpers import ticket_for
from tests.browser.test_console_and_chat import Scenario

PHONE = {"width": 375, "height": 667}
#: the bot's thanks for a rating of 5 (every variant names the score and the 评价)
RATED_5 = re.compile(r"5 ?分.{0,6}评价")
#: a customer's morning: small talk, an order look-up and a question or two, then a threat
TURNS = [
    "你好",
    "我的快递到哪了 EA123456785CN",
    "好的谢谢",
    "外卖怎么还没到",
    "2023112215300012345",
    "运费怎么算的",
    "我想开发票",
    "怎么申请退款",
    "算了先不用",
    "司机一直跟着我,还威胁我,我好害怕",
]


@pytest.fixture()
def scenario(browser: Any) -> Iterator[Scenario]:
    s = Scenario(browser)
    yield s
    s.close()


def phone(scenario: Scenario) -> Page:
    return scenario.page(PHONE, is_mobile=True, has_touch=True)


def say(page: Page, text: str) -> None:
    """Type and send, then wait until the bot has answered (a bot bubble after ours)."""
    bots = page.locator(".msg.bot").count()
    page.fill("#text", text)
    page.click("#composer button[type=submit]")
    expect(page.locator(".msg.user").last).to_contain_text(text[:6])
    expect(page.locator(".msg.bot")).not_to_have_count(bots, timeout=30_000)
    time.sleep(0.8)  # the rest of a multi-bubble answer


def messages(page: Page) -> List[str]:
    return [t.strip() for t in page.locator("#log .msg").all_inner_texts()]


def latest_message_in_view(page: Page) -> None:
    """The last bubble is inside the transcript's visible area, clear of the banner, buttons and composer."""
    seen = page.evaluate("""() => {
      const box = e => e && !e.hidden && e.offsetParent !== null ? e.getBoundingClientRect() : null;
      const log = document.getElementById('log');
      const last = log.querySelector('.msg:last-child');
      return {last: box(last), log: box(log), queue: box(document.getElementById('queue')),
              quick: box(document.getElementById('quick')), form: box(document.getElementById('composer')),
              height: window.innerHeight};
    }""")
    last, log = seen["last"], seen["log"]
    assert last and log, seen
    # its end is on screen inside the transcript (a long one may start above, scrolled)
    assert log["top"] - 1 <= last["bottom"] <= log["bottom"] + 1, f"the latest message is scrolled away: {seen}"
    assert last["bottom"] - log["top"] >= min(40, last["height"]), seen
    for other in ("queue", "quick", "form"):
        box = seen[other]
        if box and box["height"] > 0:
            overlap = min(last["bottom"], box["bottom"]) - max(last["top"], box["top"])
            assert overlap <= 0, f"the latest message is under the {other}: {seen}"
    assert seen["form"]["bottom"] <= seen["height"] + 1, f"the composer is below the screen: {seen}"


def ticket_of(stack: LiveStack, sender: str, agent: str = "safe1") -> Dict[str, Any]:
    return ticket_for(stack, sender, agent)


def test_reload_keeps_the_conversation_on_a_phone(stack: LiveStack, scenario: Scenario, shot: Screenshots) -> None:
    page = phone(scenario)
    page.goto(stack.handoff + "/chat")
    expect(page.locator("#conn")).to_have_text("已连接", timeout=15_000)
    for text in TURNS:
        say(page, text)
    expect(page.locator("#queue")).to_contain_text("排在第", timeout=15_000)
    before = messages(page)
    assert len(before) >= 22, before
    advice = [m for m in before if "110" in m]
    assert len(advice) == 1, f"the 110 advice should reach the customer once: {advice}"
    assert not any("前面还有" in m for m in before), before
    latest_message_in_view(page)
    sender = page.evaluate("localStorage.getItem('kefu.session')")

    page.reload()
    expect(page.locator("#conn")).to_have_text("已连接", timeout=15_000)
    assert messages(page) == before, "a reload lost or changed the conversation"
    assert page.evaluate("localStorage.getItem('kefu.session')") == sender
    banner = page.locator("#queue")
    expect(banner).to_contain_text("排在第", timeout=15_000)
    expect(banner).not_to_contain_text("前面还有")
    latest_message_in_view(page)
    shot(page, "chat-375px-after-reload-conversation-kept")

    # Still the same conversation: the agent's message reaches the reloaded page.
    ticket = ticket_of(stack, sender)
    assert ticket["priority"] == "P0"
    agent = stack.agent_headers("safe1")
    assert httpx.post(f"{stack.handoff}/api/tickets/{ticket['id']}/claim", headers=agent).status_code == 200
    sent = httpx.post(f"{stack.handoff}/api/tickets/{ticket['id']}/messages",
                      json={"text": "您好,我是安全专员,请告诉我您现在的位置。"}, headers=agent)
    assert sent.status_code == 201, sent.text
    expect(page.locator(".msg.agent").filter(has_text="安全专员")).to_be_visible(timeout=15_000)
    expect(banner).to_be_hidden()

    # Resolved: the rating buttons do not cover the question; a typed 5分 counts.
    assert httpx.post(f"{stack.handoff}/api/tickets/{ticket['id']}/resolve", headers=agent).status_code == 200
    expect(page.locator("#quick.rating button")).to_have_count(5, timeout=30_000)
    latest_message_in_view(page)
    expect(page.locator(".msg.bot").last).to_be_in_viewport()
    page.reload()  # the rating question and its buttons survive a reload too
    expect(page.locator("#quick.rating button")).to_have_count(5, timeout=15_000)
    latest_message_in_view(page)
    say(page, "5分")
    thanks = page.locator(".msg.bot").last
    expect(thanks).to_contain_text(RATED_5, timeout=30_000)
    expect(page.locator("#quick button")).to_have_count(0)
    latest_message_in_view(page)


def test_chat_input_does_not_make_ios_zoom(stack: LiveStack, scenario: Scenario) -> None:
    page = phone(scenario)
    page.goto(stack.handoff + "/chat")
    size = page.eval_on_selector("#text", "e => parseFloat(getComputedStyle(e).fontSize)")
    assert size >= 16, f"the chat input is {size}px: iOS zooms into inputs under 16px"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways at 375 px ({width}px wide)"


def test_typed_rating_in_the_stock_widget(stack: LiveStack, scenario: Scenario, shot: Screenshots) -> None:
    page = phone(scenario)
    page.goto(stack.handoff + "/webchat.html")
    expect(page.locator(".rw-response").first).to_contain_text("您好", timeout=30_000)
    sender = page.evaluate("JSON.parse(sessionStorage.getItem('chat_session')).session_id")
    page.fill(".rw-new-message", "转人工")
    page.keyboard.press("Enter")
    ticket = ticket_of(stack, sender, "gen1")
    agent = stack.agent_headers("gen1")
    assert httpx.post(f"{stack.handoff}/api/tickets/{ticket['id']}/claim", headers=agent).status_code == 200
    expect(page.locator(".rw-response").filter(has_text="小李")).to_be_visible(timeout=15_000)
    assert httpx.post(f"{stack.handoff}/api/tickets/{ticket['id']}/resolve", headers=agent).status_code == 200
    expect(page.locator(".rw-response").filter(has_text="打分")).to_be_visible(timeout=30_000)
    page.fill(".rw-new-message", "5")
    page.keyboard.press("Enter")
    expect(page.locator(".rw-response").filter(has_text=RATED_5)).to_be_visible(timeout=30_000)
    shot(page, "webchat-typed-rating-5")


def test_stock_widget_without_init_payload_is_greeted(stack: LiveStack, scenario: Scenario) -> None:
    """A platform that leaves out initPayload: rasa-webchat then opens with an empty message
    (user_uttered without text); the bot greets it, never a "did not understand"."""
    page = phone(scenario)
    opening: List[str] = []

    def without_init(route: Any) -> None:
        body = route.fetch().text().replace('initPayload: "/greet",', "")
        assert "initPayload" not in body
        route.fulfill(body=body, content_type="application/javascript")

    page.route("**/webchat.js", without_init)
    page.on("websocket", lambda ws: ws.on("framesent", lambda f: opening.append(str(f))))
    page.goto(stack.handoff + "/webchat.html")
    first = page.locator(".rw-response").first
    expect(first).to_contain_text("您好", timeout=30_000)
    expect(first).not_to_contain_text("没理解")
    assert any('"user_uttered"' in f and '"message"' not in f for f in opening), opening
    expect(page.locator(".rw-response")).to_have_count(1)
