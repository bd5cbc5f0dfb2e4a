"""Bad input to every endpoint: a 4xx JSON error, never a 500."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import pytest

from tests.handoff.conftest import Bridge

UNKNOWN = "0123456789abcdef"
MEGABYTE = b'{"text": "' + b"x" * (1024 * 1024) + b'"}'

# (method, path template, audience, valid body)
ENDPOINTS: List[Tuple[str, str, str, Optional[Dict[str, Any]]]] = [
    ("GET", "/api/me", "agent", None),
    ("GET", "/api/queue", "agent", None),
    ("POST", "/api/queue/next", "agent", None),
    ("GET", "/api/chats", "agent", None),
    ("GET", "/api/scripts", "agent", None),
    ("GET", "/api/tickets/{tid}", "agent", None),
    ("POST", "/api/tickets/{tid}/claim", "agent", None),
    ("POST", "/api/tickets/{tid}/renew", "agent", None),
    ("POST", "/api/tickets/{tid}/messages", "agent", {"text": "您好"}),
    ("POST", "/api/tickets/{tid}/transfer", "agent", {"skill": "refund"}),
    ("POST", "/api/tickets/{tid}/resolve", "agent", None),
    ("POST", "/api/tickets/{tid}/handback", "agent", {"flow": "refund"}),
    ("POST", "/api/tickets/{tid}/reveal", "agent", {"message_id": "1-0", "index": 0}),
    ("POST", "/internal/escalate", "internal", {"sender": "x1", "reason": "request_human"}),
    ("POST", "/internal/customer-message", "internal", {"sender": "x1", "text": "在吗"}),
    ("POST", "/internal/leave", "internal", {"sender": "x1"}),
    ("POST", "/internal/bump", "internal", {"sender": "x1"}),
    ("GET", "/internal/conversations/x1", "internal", None),
    ("GET", "/customer/x1/messages", "customer", None),
]
WITH_BODY = [e for e in ENDPOINTS if e[3] is not None]


def assert_json_error(resp: Any, *statuses: int) -> Dict[str, Any]:
    assert resp.status_code in statuses, (resp.status_code, resp.text[:300])
    data = resp.json()
    assert set(data) == {"error", "detail"} and data["error"] and data["detail"]
    return dict(data)


def _call(bridge: Bridge, method: str, path: str, headers: Dict[str, str], **kw: Any) -> Any:
    return bridge.client.request(method, path.format(tid=UNKNOWN), headers=headers, **kw)


@pytest.mark.parametrize("method,path,audience,body", ENDPOINTS, ids=[f"{m} {p}" for m, p, _, _ in ENDPOINTS])
def test_wrong_or_missing_token_is_401(bridge: Bridge, method: str, path: str, audience: str, body: Any) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}):
        assert_json_error(_call(bridge, method, path, headers, json=body), 401)


@pytest.mark.parametrize("method,path", [(m, p) for m, p, a, _ in ENDPOINTS if a == "agent"])
def test_customers_and_the_bot_cannot_use_agent_endpoints(bridge: Bridge, method: str, path: str) -> None:
    token = bridge.escalate("c-token")["customer_token"]
    for headers in ({"Authorization": f"Bearer {token}"}, bridge.internal):
        assert_json_error(_call(bridge, method, path, headers), 401)


def test_agents_cannot_use_internal_endpoints(bridge: Bridge) -> None:
    resp = bridge.client.post("/internal/escalate", json={"sender": "x", "reason": "safety"}, headers=bridge.agent("gen1"))
    assert_json_error(resp, 401)


@pytest.mark.parametrize("method,path,audience,body", WITH_BODY, ids=[f"{m} {p}" for m, p, _, _ in WITH_BODY])
def test_bad_bodies_are_400_or_413(bridge: Bridge, method: str, path: str, audience: str, body: Dict[str, Any]) -> None:
    headers = bridge.agent("gen1") if audience == "agent" else bridge.internal
    bad_bodies: List[Dict[str, Any]] = [
        {"content": b"{not json"},
        {"content": b"\xff\xfe"},
        {"json": []},
        {"json": "text"},
        {"json": {}},
        {"json": {k: 12345 if isinstance(v, str) else "x" for k, v in body.items()}},
        {"json": {**body, "unexpected": True}},
    ]
    for kw in bad_bodies:
        assert_json_error(_call(bridge, method, path, headers, **kw), 400)
    assert_json_error(_call(bridge, method, path, headers, content=MEGABYTE), 413)
    chunks = (b"x" * 65536 for _ in range(20))  # no Content-Length: limit while reading
    assert_json_error(_call(bridge, method, path, headers, content=chunks), 413)


@pytest.mark.parametrize("method,path,audience,body", [e for e in ENDPOINTS if "{tid}" in e[1]])
def test_unknown_ticket_is_404(bridge: Bridge, method: str, path: str, audience: str, body: Any) -> None:
    resp = _call(bridge, method, path, bridge.agent("gen1"), json=body)
    assert_json_error(resp, 404)
    assert_json_error(bridge.client.request(method, path.format(tid="../../etc"), headers=bridge.agent("gen1"), json=body), 400, 404)


@pytest.mark.parametrize("method,path,audience,body", [e for e in ENDPOINTS if "{tid}" in e[1] and "claim" not in e[1]])
def test_another_agents_ticket_is_403(bridge: Bridge, method: str, path: str, audience: str, body: Any) -> None:
    tid = bridge.escalate("c-owned")["ticket_id"]
    assert bridge.client.post(f"/api/tickets/{tid}/claim", headers=bridge.agent("gen1")).status_code == 200
    resp = bridge.client.request(method, path.format(tid=tid), headers=bridge.agent("gen2"), json=body)
    assert_json_error(resp, 403)


def test_claiming_a_ticket_someone_holds_is_409(bridge: Bridge) -> None:
    tid = bridge.escalate("c-held")["ticket_id"]
    bridge.client.post(f"/api/tickets/{tid}/claim", headers=bridge.agent("gen1"))
    assert_json_error(bridge.client.post(f"/api/tickets/{tid}/claim", headers=bridge.agent("gen2")), 409)


def test_customer_poll_needs_the_token_of_that_conversation(bridge: Bridge) -> None:
    mine = bridge.escalate("c-a")["customer_token"]
    bridge.escalate("c-b")
    assert bridge.client.get("/customer/c-a/messages", params={"token": mine}).status_code == 200
    assert_json_error(bridge.client.get("/customer/c-b/messages", params={"token": mine}), 401)
    assert_json_error(bridge.client.get("/customer/c-a/messages", params={"token": mine, "after": "junk"}), 400)
    assert_json_error(bridge.client.get("/customer/nobody/messages", params={"token": mine}), 401)


def test_expired_customer_token_is_refused(bridge: Bridge, redis_client: Any) -> None:
    from core import keys

    token = bridge.escalate("c-exp")["customer_token"]
    redis_client.delete(keys.customer_token("c-exp"))  # what its 7-day expiry does
    assert_json_error(bridge.client.get("/customer/c-exp/messages", params={"token": token}), 401)


def test_unknown_paths_and_methods_are_json_errors(bridge: Bridge) -> None:
    assert_json_error(bridge.client.get("/nope"), 404)
    assert_json_error(bridge.client.delete("/api/me", headers=bridge.agent("gen1")), 405)
    assert_json_error(bridge.client.get("/internal/escalate", headers=bridge.internal), 405)


def test_health_and_openapi(bridge: Bridge) -> None:
    import time

    deadline = time.monotonic() + 30
    while bridge.client.get("/health").json()["status"] == "starting" and time.monotonic() < deadline:
        time.sleep(0.1)  # the PII masker is still loading
    assert bridge.client.get("/health").json() == {"status": "ok", "redis": "ok"}
    doc = bridge.client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.") and "/api/tickets/{ticket_id}/claim" in doc["paths"]
