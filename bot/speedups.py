"""Hot-path fixes for Rasa 3.6 internals, installed by our channels.

Rasa validates every action server reply with ``jsonschema.validate``, which
checks the (large) schema against its meta-schema and builds a new validator
on every call: about 24 ms of CPU per custom action, the biggest single item
in the Rasa server's profile under load (bench/RESULTS.md). Here the
validator is built once and reused; replies are checked exactly as strictly
(same schema, same ``best_match`` error, same message).
"""
from __future__ import annotations

import functools
from typing import Any, Dict, Text

_installed = False


@functools.lru_cache(maxsize=1)
def _action_reply_validator() -> Any:
    from jsonschema import validators
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _validate_action_result(self: Any, result: Dict[Text, Any]) -> bool:
    from jsonschema.exceptions import best_match
    from rasa.shared.constants import DOCS_BASE_URL

    error = best_match(_action_reply_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        ". Failed to validate Action server response from API, "
        "make sure your response from the Action endpoint is valid. "
        f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
    )
    raise error


def install() -> None:
    """Replace RemoteAction's per-call schema check with the cached one (idempotent)."""
    global _installed
    if _installed:
        return
    from rasa.core.actions.action import RemoteAction

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    _installed = True
