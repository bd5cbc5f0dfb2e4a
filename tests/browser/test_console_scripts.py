"""The console's standard scripts in the browser, against the real stack (issue 15, item 7):
the whole list by category with titles, search by synonym (延误), a script's unknown
variables asked for before it goes into the reply, and a reply with a raw
{placeholder} never reaching the customer."""
from __future__ import annotations

import re
import time
import uuid
from typing import Any, Iterator

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, LiveStack, Screenshots
from tests.browser.helpers import ticket_for
from tests.browser.test_console_and_chat import Scenario, console_login


@pytest.fixture()
def scenario(browser: Any) -> Iterator[Scenario]:
    s = Scenario(browser)
    yield s
    s.close()


def test_scripts_are_categorised_searchable_and_ask_for_their_variables(
        stack: LiveStack, scenario: Scenario, shot: Screenshots) -> None:
    sender = f"rest-{uuid.uuid4().hex[:8]}"
    stack.rest(sender, "订单 2023112215300012345 的外卖还没到")
    stack.rest(sender, "转人工")
    agent_headers = stack.agent_headers("gen1")
    ticket = ticket_for(stack, sender)
    assert httpx.post(f"{stack.handoff}/api/tickets/{ticket['id']}/claim", headers=agent_headers).status_code == 200
    listed = httpx.get(f"{stack.handoff}/api/scripts", headers=agent_headers).json()

    agent = scenario.page(DESKTOP)
    console_login(agent, stack, "gen1")
    expect(agent.locator("#chat")).to_be_visible()
    items = agent.locator("#script-list li.script")

    # The whole list, grouped under the categories' titles, each script by its title.
    expect(items).to_have_count(listed["total"])
    assert listed["total"] > 100
    headings = agent.locator("#script-list li.first-of-category")
    expect(headings).to_have_count(len({s["category"] for s in listed["scripts"]}))
    assert headings.first.get_attribute("data-category-title") == listed["categories"][0]["title"]
    assert not any(re.fullmatch(r"utter_\w+", t) for t in agent.locator("#script-list li .title").all_inner_texts())

    # 延误 is in no late-delivery script's text, but they are found by their category.
    agent.fill("#script-search", "延误")
    expect(agent.locator("#script-list li .title").filter(has_text="延误致歉").first).to_be_visible()
    expect(items).not_to_have_count(listed["total"])
    agent.select_option("#script-category", "refund")
    expect(items).to_have_count(0)
    expect(agent.locator("#script-list li.none")).to_be_visible()
    agent.select_option("#script-category", "")

    # A script with a variable the chat does not know: asked for, inserted only once filled.
    reply = agent.locator("#reply")
    agent.fill("#script-search", "免车费")
    waived = items.filter(has_text="司机迟到免车费")
    expect(waived).to_have_count(1)
    expect(waived.locator(".needs")).to_contain_text("1")
    waived.click()
    form = agent.locator("#script-fill")
    expect(form).to_be_visible()
    field = form.get_by_label("延误分钟数")
    expect(field).to_be_focused()
    expect(reply).to_have_value("")
    form.locator("button[type=submit]").click()
    expect(form.locator(".fill-error")).to_contain_text("延误分钟数")
    expect(reply).to_have_value("")
    field.fill("12")
    shot(agent, "console-script-asks-for-its-variables")
    form.locator("button[type=submit]").click()
    expect(form).to_be_hidden()
    expect(reply).to_have_value(re.compile(r"迟到了 12 分钟"))
    assert "{" not in reply.input_value()

    # The order's own details are filled without asking (order_masked), the rest asked.
    agent.fill("#script-search", "可以全额退款")
    offer = items.filter(has_text="可以全额退款").first
    offer.click()
    if agent.locator("#script-fill").is_visible():
        assert agent.locator("#script-fill input[data-variable=order_masked]").count() == 0
        for field_input in agent.locator("#script-fill input").all():
            field_input.fill("8")
        agent.locator("#script-fill button[type=submit]").click()
    value = reply.input_value()
    assert "{" not in value and "2345" in value and "2023112215300012345" not in value, value

    # A raw placeholder typed by hand: warned about, and the bridge does not send it.
    reply.fill("您的退款 {refund_amount} 元已经提交")
    expect(agent.locator("#reply-warning")).to_contain_text("{refund_amount}")
    expect(agent.locator("#reply-warning")).to_contain_text("退款金额")
    agent.click("#send")
    time.sleep(1.5)
    held = httpx.get(f"{stack.handoff}/api/tickets/{ticket['id']}", headers=agent_headers).json()
    assert not any("{refund_amount}" in (m.get("text") or "") for m in held["transcript"])
    expect(reply).to_have_value("您的退款 {refund_amount} 元已经提交")
    httpx.post(f"{stack.handoff}/api/tickets/{ticket['id']}/resolve", headers=agent_headers)
