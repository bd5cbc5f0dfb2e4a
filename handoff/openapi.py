"""The OpenAPI 3.0 document, generated from the route table and the body models.

Nothing here describes a body by hand: each ``Endpoint`` (handoff/routes/)
names its pydantic model, whose ``schema()`` becomes
``#/components/schemas/<Model>`` (nested models too, by ``$ref``), and each
path parameter's pattern is the one the route checks (handoff/models.py).
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Sequence, Type

from handoff.models import SENDER_PATTERN, TICKET_PATTERN, Body
from handoff.routes.common import AGENT, CUSTOMER, INTERNAL, Endpoint

REF = "#/components/schemas/{model}"
#: every path parameter a route takes, with the pattern the route checks
PATH_PARAMS: Dict[str, Dict[str, Any]] = {
    "ticket_id": {"type": "string", "pattern": TICKET_PATTERN},
    "sender": {"type": "string", "pattern": SENDER_PATTERN},
}
ERROR_SCHEMA = {
    "type": "object", "required": ["error", "detail"],
    "properties": {"error": {"type": "string"}, "detail": {"type": "string"}},
}
_ERRORS = (("400", "bad input"), ("401", "bad token"), ("403", "not yours"), ("404", "unknown id"),
           ("409", "conflict"), ("413", "body too large"), ("503", "queue unavailable"))
_JSON_ERROR = {"application/json": {"schema": {"$ref": REF.format(model="Error")}}}


def _parameters(endpoint: Endpoint) -> List[Dict[str, Any]]:
    params = [{"name": name, "in": "path", "required": True, "schema": PATH_PARAMS[name]}
              for name in re.findall(r"\{(\w+)\}", endpoint.path)]
    params += [{"name": q.name, "in": "query", "required": False, "schema": q.schema} for q in endpoint.query]
    return params


def operation(endpoint: Endpoint) -> Dict[str, Any]:
    op: Dict[str, Any] = {
        "summary": endpoint.summary,
        "responses": {
            str(endpoint.status): {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}},
            **{code: {"description": text, "content": _JSON_ERROR} for code, text in _ERRORS},
        },
    }
    if endpoint.security:
        op["security"] = [{endpoint.security: []}]
    params = _parameters(endpoint)
    if params:
        op["parameters"] = params
    if endpoint.body is not None:
        op["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": {"$ref": REF.format(model=endpoint.body.__name__)}}}}
    return op


def schemas(models: Sequence[Type[Body]]) -> Dict[str, Any]:
    """Each model's JSON schema by name, and the models they refer to."""
    out: Dict[str, Any] = {}
    for model in models:
        schema = dict(model.schema(ref_template=REF))
        out.update(schema.pop("definitions", {}))
        out[model.__name__] = schema
    return out


def document(endpoints: Sequence[Endpoint]) -> Dict[str, Any]:
    """The whole document for these endpoints (methods of one path share its entry)."""
    paths: Dict[str, Dict[str, Any]] = {}
    for endpoint in endpoints:
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = operation(endpoint)
    models = list(dict.fromkeys(e.body for e in endpoints if e.body is not None))
    return {
        "openapi": "3.0.3",
        "info": {"title": "Kefu handoff bridge", "version": "1.0.0",
                 "description": "Human handoff: queue, agent console API, bot-side internal API. "
                                "WebSocket: /ws/agent?token=&last_id="},
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR_SCHEMA, **schemas(models)},
            "securitySchemes": {name: {"type": "http", "scheme": "bearer"} for name in (AGENT, INTERNAL, CUSTOMER)},
        },
    }
