"""The agent console's scripts through the bridge's API: the whole list with
titles and categories, search by synonym and category, and a reply with an
unfilled {placeholder} refused before it reaches the customer."""
from __future__ import annotations

import re
from typing import Any, Dict, List

from core.responses import load_responses
from handoff.scripts import read_data
from tests.handoff.conftest import Bridge


def scripts(bridge: Bridge, **params: str) -> Dict[str, Any]:
    resp = bridge.client.get("/api/scripts", params=params, headers=bridge.agent("gen1"))
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def titles(found: Dict[str, Any]) -> List[str]:
    return [s["title"] for s in found["scripts"]]


def test_the_whole_list_categorised_with_titles(bridge: Bridge) -> None:
    found = scripts(bridge)
    listed = found["scripts"]
    data = read_data()
    offered = [name for name in data["scripts"]]
    variants = sum(len([v for v in load_responses()[n] if isinstance(v.get("text"), str)]) for n in offered)
    assert len(listed) == found["total"] == variants > 100, "every variant of every offered script, not the first 50"
    assert {s["name"] for s in listed} == set(offered)
    assert not any(re.fullmatch(r"utter_\w+", s["title"]) for s in listed), "titles, never utterance names"
    categories = [c["id"] for c in found["categories"]]
    assert [c["title"] for c in found["categories"]][:1] == ["问候与结束"]
    order = [categories.index(s["category"]) for s in listed]
    assert order == sorted(order), "the list comes grouped by category, in the file's order"
    assert "utter_ask_rating" not in {s["name"] for s in listed}, "the bot's own mechanics are not offered"
    late = next(s for s in listed if s["name"] == "utter_delay_fare_waived")
    assert late["variables"] == [{"name": "late_minutes", "label": "延误分钟数"}]
    assert found["forbidden"] and found["forbidden"][0]["phrase"]


def test_search_by_synonym_category_and_traditional(bridge: Bridge) -> None:
    # 延误 appears in no late-delivery script's text: the category's synonyms find them
    late = scripts(bridge, q="延误")
    names = {s["name"] for s in late["scripts"]}
    assert {"utter_delay_apology", "utter_delay_coupon", "utter_status_late_note"} <= names
    assert not any("延误" in s["text"] for s in late["scripts"] if s["name"] == "utter_delay_apology")
    assert {s["name"] for s in scripts(bridge, q="催单")["scripts"]} >= {"utter_delay_apology"}
    assert {s["name"] for s in scripts(bridge, q="延誤")["scripts"]} == names, "Traditional finds the same"
    refunds = scripts(bridge, q="退钱")["scripts"]
    assert refunds and all(s["category"] == "refund" for s in refunds[:3])
    both = scripts(bridge, q="外卖 明细")["scripts"]
    assert [s["name"] for s in both] == ["utter_fee_breakdown_food"], "every word must match"
    only = scripts(bridge, category="invoice")["scripts"]
    assert only and {s["category"] for s in only} == {"invoice"}
    nothing = scripts(bridge, q="完全无关的词语xyz")
    assert nothing["scripts"] == [] and nothing["total"] > 100


def test_a_reply_with_an_unfilled_placeholder_is_refused(bridge: Bridge) -> None:
    tid = bridge.escalate("rest-script")["ticket_id"]
    agent = bridge.agent("gen1")
    assert bridge.client.post(f"/api/tickets/{tid}/claim", headers=agent).status_code == 200
    raw = "司机迟到了 {late_minutes} 分钟,退款 {refund_amount} 元已提交。"
    refused = bridge.client.post(f"/api/tickets/{tid}/messages", json={"text": raw}, headers=agent)
    assert refused.status_code == 400
    body = refused.json()
    assert body["error"] == "unfilled_placeholder"
    assert "{late_minutes}(延误分钟数)" in body["detail"] and "{refund_amount}(退款金额(元))" in body["detail"]
    ticket = bridge.client.get(f"/api/tickets/{tid}", headers=agent).json()
    assert not any("{late_minutes}" in (m.get("text") or "") for m in ticket["transcript"]), "nothing reached the customer"
    assert not any("{late_minutes}" in str(e) for e in bridge.rasa.events.get("rest-script", [])), "nor the tracker"
    filled = bridge.client.post(f"/api/tickets/{tid}/messages", json={"text": "司机迟到了 12 分钟,退款 8.5 元已提交。"},
                                headers=agent)
    assert filled.status_code == 201, filled.text
    # braces that are not a placeholder are fine (a customer's emoticon quoted back, JSON-ish text)
    assert bridge.client.post(f"/api/tickets/{tid}/messages", json={"text": "您说的 {} 是什么意思?"},
                              headers=agent).status_code == 201
