"""The served /openapi.json tells the truth: every route the bridge answers, with the body it takes.

The document is generated from the route table and the pydantic body models
(handoff/openapi.py). These tests check it against what the running app
does, not against the table it came from: the app's own routing, and which
endpoints actually read a JSON body.
"""
from __future__ import annotations

from typing import Any, Dict, List, Tuple

import jsonschema
from starlette.routing import Route

from tests.handoff.conftest import Bridge

UNKNOWN = "0123456789abcdef"
#: served but not JSON API calls: pages, the document itself, the dev-only demo sign-in
NOT_DOCUMENTED = {"/openapi.json", "/console", "/chat", "/supervisor", "/config.js", "/dev/customer-token"}
#: a valid body for each body-taking operation (the request schema must accept it, the bridge must not refuse it)
VALID: Dict[Tuple[str, str], Dict[str, Any]] = {
    ("post", "/api/chats/renew"): {"ticket_ids": [UNKNOWN]},
    ("post", "/api/tickets/{ticket_id}/notes"): {"text": "客户说下午在家"},
    ("post", "/api/tickets/{ticket_id}/messages"): {"text": "您好", "client_id": "abcdefgh12"},
    ("post", "/api/tickets/{ticket_id}/transfer"): {"skill": "refund"},
    ("post", "/api/tickets/{ticket_id}/handback"): {"flow": "refund"},
    ("post", "/api/tickets/{ticket_id}/reveal"): {"message_id": "1-0", "index": 0},
    ("post", "/internal/escalate"): {"sender": "oa-1", "reason": "request_human", "priority": "P1",
                                     "transcript": [{"role": "user", "text": "我要退款", "ts": 1}]},
    ("post", "/internal/customer-message"): {"sender": "oa-1", "text": "在吗"},
    ("post", "/internal/leave"): {"sender": "oa-1"},
    ("post", "/internal/bump"): {"sender": "oa-1"},
    ("post", "/customer/{sender}/typing"): {"typing": True},
    ("post", "/customer/{sender}/presence"): {"online": False},
}


def _document(bridge: Bridge) -> Dict[str, Any]:
    resp = bridge.client.get("/openapi.json")
    assert resp.status_code == 200
    return dict(resp.json())


def _operations(doc: Dict[str, Any]) -> List[Tuple[str, str]]:
    return [(method, path) for path, item in doc["paths"].items() for method in item]


def _request_schema(doc: Dict[str, Any], method: str, path: str) -> Dict[str, Any]:
    ref = doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return dict(doc["components"]["schemas"][ref.rsplit("/", 1)[-1]])


def _validator(doc: Dict[str, Any], schema: Dict[str, Any]) -> jsonschema.Draft7Validator:
    # $refs resolve against the whole document, as a client generator would resolve them
    return jsonschema.Draft7Validator(schema, resolver=jsonschema.RefResolver("", doc))


def _call(bridge: Bridge, method: str, path: str, **kw: Any) -> Any:
    url = path.replace("{ticket_id}", UNKNOWN).replace("{sender}", "oa-1")
    if url.startswith("/api"):
        headers = bridge.agent("gen1")
    elif url.startswith("/internal"):
        headers = bridge.internal
    else:
        headers = {}
    return bridge.client.request(method.upper(), url, headers=headers, **kw)


def test_every_route_the_app_serves_is_in_the_document(bridge: Bridge) -> None:
    doc = _document(bridge)
    served = [(method.lower(), route.path) for route in bridge.client.app.routes  # type: ignore[attr-defined]
              if isinstance(route, Route) and route.path not in NOT_DOCUMENTED
              for method in (route.methods or ()) if method != "HEAD"]
    assert len(served) >= 28, served
    missing = sorted(set(served) - set(_operations(doc)))
    assert not missing, f"served but not in /openapi.json: {missing}"
    assert not sorted(set(_operations(doc)) - set(served)), "documented but not served"
    for method, path in _operations(doc):
        op = doc["paths"][path][method]
        assert op["summary"] and "400" in op["responses"], (method, path)
        names = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
        assert names == {part[1:-1] for part in path.split("/") if part.startswith("{")}, (method, path)


def test_an_endpoint_has_a_request_schema_exactly_when_it_reads_a_body(bridge: Bridge) -> None:
    doc = _document(bridge)
    for method, path in _operations(doc):
        if method != "post":
            continue
        resp = _call(bridge, method, path, content=b"{not json")
        reads_body = resp.status_code == 400 and "JSON" in resp.json()["detail"]
        documented = "requestBody" in doc["paths"][path][method]
        assert reads_body == documented, (path, resp.status_code, resp.text[:200], documented)
        if documented:
            assert (method, path) in VALID, f"add a valid body for {path} to VALID"


def test_the_request_schemas_accept_and_refuse_what_the_bridge_does(bridge: Bridge) -> None:
    doc = _document(bridge)
    for (method, path), body in VALID.items():
        schema = _request_schema(doc, method, path)
        assert schema["type"] == "object" and schema["additionalProperties"] is False, path
        validator = _validator(doc, schema)
        assert not list(validator.iter_errors(body)), (path, [e.message for e in validator.iter_errors(body)])
        assert _call(bridge, method, path, json=body).status_code != 400, path
        wrong = [{**body, "unexpected": True},
                 {k: 12345 if isinstance(v, str) else "x" for k, v in body.items()}]
        for bad in wrong:
            assert list(validator.iter_errors(bad)), (path, bad)
            assert _call(bridge, method, path, json=bad).status_code == 400, (path, bad)
        for name in schema.get("required", []):
            assert name in schema["properties"], (path, name)
            short = {k: v for k, v in body.items() if k != name}
            assert list(validator.iter_errors(short)), (path, name)
            assert _call(bridge, method, path, json=short).status_code == 400, (path, name)


def test_a_nested_model_is_published_by_reference(bridge: Bridge) -> None:
    doc = _document(bridge)
    escalate = _request_schema(doc, "post", "/internal/escalate")
    assert escalate["properties"]["transcript"]["items"] == {"$ref": "#/components/schemas/TranscriptLine"}
    line = doc["components"]["schemas"]["TranscriptLine"]
    assert line["properties"]["role"]["enum"] == ["user", "bot", "agent"] and line["required"] == ["role", "text"]
    validator = _validator(doc, escalate)
    bad_line = {"sender": "oa-2", "reason": "safety", "transcript": [{"role": "hacker", "text": "x"}]}
    assert list(validator.iter_errors(bad_line))
    resp = _call(bridge, "post", "/internal/escalate", json=bad_line)
    assert resp.status_code == 400 and resp.json()["detail"].startswith("transcript/0/role")
