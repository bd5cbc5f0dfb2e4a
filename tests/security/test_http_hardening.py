"""The audit's HTTP findings against the bridge and Rasa's Kefu REST channel, in process.

Each test failed on the audited code: deeply nested JSON and a lone UTF-16
surrogate in a sender were a 500 (RecursionError, UnicodeEncodeError at
Redis), a 405 had no Allow header, no page had a Content-Security-Policy or
X-Frame-Options, and a 400 quoted the customer's text back (jsonschema's
message), which the bot side writes to actions.log.
"""
from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any, AsyncIterator, Dict, Iterator, List, Tuple

import httpx
import pytest

from core.paths import ROOT
from handoff.safe_json import MAX_DEPTH
from tests.handoff.conftest import Bridge, add_agents, bridge, make_settings, start_bridge  # noqa: F401  (bridge: fixture)
from tests.handoff.test_channels import SanicChannel

#: deep enough for json.loads to hit the recursion limit, small enough for the 64 KiB body limit
NESTED = b"[" * 30000 + b"]" * 30000
SURROGATE = '"\\ud800"'  # valid JSON, not encodable as UTF-8
PHONE = "13812345678"
SECRET = f"我的电话是{PHONE},身份证110105199003071001"


@pytest.fixture()
def web_bridge(redis_url: str, tmp_path: Path) -> Iterator[Bridge]:
    settings = make_settings(redis_url, tmp_path, web_dir=ROOT / "web")
    yield from start_bridge(settings, add_agents(settings.agents_file))


def _json_error(resp: httpx.Response, status: int) -> Dict[str, Any]:
    assert resp.status_code == status, (resp.status_code, resp.text[:300])
    body = resp.json()
    assert set(body) == {"error", "detail"} and body["detail"]
    return dict(body)


def _bodies(bridge: Bridge) -> List[Tuple[str, Dict[str, str], str]]:
    """(path, headers, JSON template with {v} where a string goes) for body-taking endpoints."""
    tid = bridge.escalate("sec-http")["ticket_id"]
    assert bridge.client.post(f"/api/tickets/{tid}/claim", headers=bridge.agent("gen1")).status_code == 200
    agent, internal = bridge.agent("gen1"), bridge.internal
    return [
        ("/internal/escalate", internal, '{"sender": {v}, "reason": "request_human"}'),
        ("/internal/customer-message", internal, '{"sender": {v}, "text": "在吗"}'),
        ("/internal/customer-message", internal, '{"sender": "sec-http", "text": {v}}'),
        ("/internal/leave", internal, '{"sender": {v}}'),
        ("/internal/bump", internal, '{"sender": {v}}'),
        (f"/api/tickets/{tid}/messages", agent, '{"text": {v}}'),
        (f"/api/tickets/{tid}/transfer", agent, '{"skill": {v}}'),
        ("/customer/sec-http/typing", {}, '{"typing": {v}}'),
    ]


def test_deeply_nested_json_is_400_not_500(bridge: Bridge) -> None:
    for path, headers, template in _bodies(bridge):
        resp = bridge.client.post(path, content=template.replace("{v}", NESTED.decode()).encode(), headers=headers)
        assert "嵌套" in _json_error(resp, 400)["detail"], path
        shallow = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)  # under the recursion limit, over ours
        _json_error(bridge.client.post(path, content=template.replace("{v}", shallow).encode(), headers=headers), 400)


def test_a_lone_surrogate_is_400_not_500(bridge: Bridge) -> None:
    for path, headers, template in _bodies(bridge):
        resp = bridge.client.post(path, content=template.replace("{v}", SURROGATE).encode(), headers=headers)
        _json_error(resp, 400)
    escalated = bridge.client.post("/internal/escalate", headers=bridge.internal, content=json.dumps(
        {"sender": "sec-ok", "reason": "request_human", "transcript": [{"role": "user", "text": "\ud83d\ude00 好"}]}
    ).encode())
    assert escalated.status_code == 201, "a surrogate *pair* (an emoji) is fine"


def test_error_bodies_and_logs_never_echo_customer_text(bridge: Bridge, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    internal = bridge.internal
    refusals = [
        ("/internal/customer-message", {"sender": "sec-echo", "text": SECRET * 200}),  # too long
        ("/internal/customer-message", {"sender": [SECRET], "text": "在吗"}),  # wrong type
        ("/internal/customer-message", {"sender": "sec-echo", "text": "在吗", SECRET: 1}),  # unknown field
        ("/internal/escalate", {"sender": "sec-echo", "reason": SECRET}),  # not in the enum
        ("/internal/escalate", {"sender": "sec-echo", "reason": "safety", "transcript": [{"role": SECRET, "text": "x"}]}),
    ]
    for path, body in refusals:
        resp = bridge.client.post(path, json=body, headers=internal)
        detail = _json_error(resp, 400)["detail"]
        assert PHONE not in resp.text and "电话" not in resp.text and "110105" not in resp.text, (path, detail)
    # too long a summary or transcript line: cut / kept as several lines, not refused (issue 13:
    # a refused escalation was lost), and still never echoed
    accepted = [
        {"sender": "sec-echo", "reason": "safety", "summary": SECRET * 50},
        {"sender": "sec-echo-2", "reason": "safety", "transcript": [{"role": "user", "text": SECRET * 200}]},
    ]
    for body in accepted:
        resp = bridge.client.post("/internal/escalate", json=body, headers=internal)
        assert resp.status_code == 201, resp.text[:200]
        assert PHONE not in resp.text and "电话" not in resp.text and "110105" not in resp.text
    assert PHONE not in caplog.text and "110105" not in caplog.text


def test_an_internal_error_is_json_and_says_nothing(bridge: Bridge, monkeypatch: pytest.MonkeyPatch) -> None:
    service = bridge.client.app.state.service  # type: ignore[attr-defined]

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"boom while handling {SECRET}")

    monkeypatch.setattr(service, "customer_message", broken)
    bridge.escalate("sec-500")
    resp = bridge.client.post("/internal/customer-message", json={"sender": "sec-500", "text": SECRET},
                              headers=bridge.internal)
    assert _json_error(resp, 500)["error"] == "internal_error"
    assert PHONE not in resp.text and "boom" not in resp.text


def test_405_carries_allow(web_bridge: Bridge) -> None:
    cases = [
        ("DELETE", "/api/me", {"GET"}), ("GET", "/internal/escalate", {"POST"}),
        ("PUT", "/api/tickets/0123456789abcdef/claim", {"POST"}), ("POST", "/console", {"GET"}),
        ("POST", "/chat.js", {"GET"}),  # a static file
    ]
    for method, path, allowed in cases:
        resp = web_bridge.client.request(method, path, headers=web_bridge.agent("gen1"))
        _json_error(resp, 405)
        assert allowed <= {m.strip() for m in resp.headers.get("allow", "").split(",")}, (method, path, resp.headers)


PAGES = ["/console", "/chat", "/supervisor", "/webchat.html", "/chat.js", "/console.css", "/config.js",
         "/vendor/socket.io-4.8.4.min.js", "/openapi.json", "/nope"]


def test_every_page_gets_the_security_headers(web_bridge: Bridge) -> None:
    for path in PAGES:
        resp = web_bridge.client.get(path)
        assert resp.status_code in (200, 404), path
        csp = resp.headers.get("content-security-policy", "")
        directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
        assert directives.get("frame-ancestors") in (["'none'"], ["'self'"]), (path, csp)
        assert directives.get("script-src") == ["'self'"], (path, csp)  # no inline or eval'd script
        assert directives.get("object-src") == ["'none'"] and directives.get("base-uri") == ["'none'"]
        # the chat pages open Rasa's socket.io on its own port (the URL /config.js hands out)
        assert {"'self'", "http://rasa.test", "ws://rasa.test"} <= set(directives.get("connect-src", [])), csp
        assert resp.headers.get("x-frame-options") == "DENY", path
        assert resp.headers.get("x-content-type-options") == "nosniff", path
        assert resp.headers.get("referrer-policy") == "no-referrer", path
    assert "rasa.test" in web_bridge.client.get("/config.js").text


def test_no_page_has_inline_script() -> None:
    """script-src 'self' blocks inline scripts and handlers: every page's code lives in a file."""
    for page in ("webchat.html", "chat.html", "console.html", "supervisor.html"):
        html = (ROOT / "web" / page).read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), page
        assert not re.search(r"\son[a-z]+\s*=", html) and "javascript:" not in html, page


# ---- Rasa's Kefu REST channel (bot/channels/), on a Sanic app as Rasa registers it -------------

@pytest.fixture()
async def rest_channel(monkeypatch: pytest.MonkeyPatch, redis_url: str) -> AsyncIterator[str]:
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("KEFU_HANDOFF_URL", "http://127.0.0.1:9")  # nothing in handoff: never called
    channel = SanicChannel()
    await channel.start()
    try:
        yield f"http://127.0.0.1:{channel.port}/webhooks/kefu/webhook"
    finally:
        await channel.stop()


async def test_the_kefu_rest_webhook_refuses_bad_bodies_with_a_4xx(rest_channel: str) -> None:
    bad = [
        (b'{"sender": "a", "message": ', 400),  # malformed
        (b"\xff\xfe{}", 400),  # not UTF-8
        (b'{"sender": "a", "message": "hi", "metadata": ' + NESTED + b"}", 400),
        (('{"sender": ' + SURROGATE + ', "message": "你好"}').encode(), 400),
        (('{"sender": "a", "message": "hi ' + "\\udc00" + '"}').encode(), 400),
        (json.dumps({"sender": "a", "message": SECRET * 3000}).encode(), 413),  # huge
    ]
    async with httpx.AsyncClient(timeout=30) as http:
        for content, status in bad:
            resp = await http.post(rest_channel, content=content, headers={"Content-Type": "application/json"})
            assert resp.status_code == status, (content[:60], resp.status_code, resp.text[:200])
            assert set(resp.json()) == {"error", "detail"} and PHONE not in resp.text
        ok = await http.post(rest_channel, json={"sender": "sec-rest", "message": "你好"})
        assert ok.status_code == 200 and ok.json() == [{"recipient_id": "sec-rest", "text": "机器人回复"}]
