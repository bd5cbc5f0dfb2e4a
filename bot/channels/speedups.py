"""Hot-path fixes for Rasa 3.6 internals, installed by our channels.

Rasa validates every action server reply with ``jsonschema.validate``, which
checks the (large) schema against its meta-schema and builds a new validator
on every call: about 24 ms of CPU per custom action, the biggest single item
in the Rasa server's profile under load (bench/RESULTS.md). Even a reused
pure-Python validator takes ~3 ms per reply (every event is tried against
every event schema), so a valid reply is checked by ``jsonschema_rs`` (Rust,
~0.01 ms) against the same schema; only a reply it rejects goes through
Python's validator, which gives Rasa's own ``best_match`` error and message.
The same goes for the events the bridge writes into trackers
(``POST /conversations/{id}/tracker/events``, checked by Rasa with
``jsonschema.validate`` on every call): valid bodies pass the Rust check,
anything else gets Rasa's own check and 400 answer.

Rasa also runs the whole NLU graph (jieba, spaCy, four featurizers, DIET on
TensorFlow: about 7 ms) for every customer message, although the result
depends on the text alone (no component of ours reads metadata or the
tracker). Customers repeat themselves a lot (你好, 谢谢, 转人工, 好的), so the
parse of recent texts is kept in a bounded LRU per loaded model; a reloaded
model gets a new processor and so an empty cache. Hits are deep copies, so a
caller changing its parse data cannot change the next customer's.

Models are loaded with :class:`bot.dialogue.graph_runner.PlainGraphRunner`
instead of Rasa's ``DaskGraphRunner``: the same nodes in dask's own order,
without dask's per-call scheduling (every parse and every prediction).
``KEFU_PLAIN_GRAPH_RUNNER=0`` keeps Rasa's runner.

DIET and TED are loaded without tracing Keras's training function
(bot/dialogue/lean_load.py): about 270 MiB less per worker and a model load
in a third of the time. ``KEFU_LEAN_MODEL_LOAD=0`` keeps Rasa's load.

The dialogue states every policy asks for are extended by the new events of
the conversation instead of rebuilt from its first event for every call
(bot/dialogue/prior_states.py). ``KEFU_STATES_CACHE=0`` keeps Rasa's method.
"""
from __future__ import annotations

import copy
import functools
import os
from collections import OrderedDict
from typing import Any, Callable, Dict, Optional, Text

from jsonschema import validators
from jsonschema.exceptions import best_match
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.utils.schemas.events import EVENTS_SCHEMA

from core.switches import switch

try:
    import jsonschema_rs
except ImportError:  # pragma: no cover - pinned in requirements.txt; without it Python's check runs alone
    jsonschema_rs = None

# rasa.server, rasa.core.processor and rasa.core.actions.action are imported in the
# functions below, not here: each pulls in TensorFlow (~2 s), and they are only needed
# inside the Rasa server, where they are loaded already (the channels import this module).

#: distinct texts remembered per model (a parse is ~2 KB); KEFU_PARSE_CACHE_SIZE=0 turns the cache off
PARSE_CACHE_SIZE = 4096
#: longer texts are rarely repeated word for word: not worth the memory
PARSE_CACHE_MAX_CHARS = 120

#: KEFU_PLAIN_GRAPH_RUNNER=0 keeps Rasa's dask runner for models loaded after install()
PLAIN_RUNNER_ENV = "KEFU_PLAIN_GRAPH_RUNNER"

_installed = False
_original_parse: Optional[Callable[..., Dict[Text, Any]]] = None
_original_events_check: Optional[Callable[[Any], None]] = None


@functools.lru_cache(maxsize=1)
def _action_reply_validator() -> Any:
    from rasa.core.actions.action import RemoteAction  # here, not at the top: heavy (TensorFlow), Rasa server only

    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _rust_validator(schema: Dict[Text, Any]) -> Any:
    """A jsonschema_rs validator for ``schema``, or None without the wheel (then Python's check runs alone)."""
    if jsonschema_rs is None:  # pragma: no cover - pinned in requirements.txt
        return None
    return jsonschema_rs.validator_for(schema)


@functools.lru_cache(maxsize=1)
def _fast_action_reply_validator() -> Any:
    from rasa.core.actions.action import RemoteAction  # here, not at the top: heavy (TensorFlow), Rasa server only

    return _rust_validator(RemoteAction.action_response_format_spec())


@functools.lru_cache(maxsize=1)
def _fast_events_validator() -> Any:
    return _rust_validator(EVENTS_SCHEMA)


def _validate_events_in_request_body(request: Any) -> None:
    body = request.json
    events = body if isinstance(body, list) else [body]
    fast = _fast_events_validator()
    if fast is not None and fast.is_valid(events):
        return
    assert _original_events_check is not None
    _original_events_check(request)  # Rasa's own check and 400 answer


def _validate_action_result(self: Any, result: Dict[Text, Any]) -> bool:
    fast = _fast_action_reply_validator()
    if fast is not None and fast.is_valid(result):
        return True
    # rejected (or no fast validator): Python's validator has the last word and the error text
    error = best_match(_action_reply_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        ". Failed to validate Action server response from API, "
        "make sure your response from the Action endpoint is valid. "
        f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
    )
    raise error


class ParseCache:
    """Bounded LRU of NLU parse results by exact message text."""

    def __init__(self, size: int = PARSE_CACHE_SIZE) -> None:
        self.size = size
        self.entries: "OrderedDict[str, Dict[Text, Any]]" = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, text: str) -> Optional[Dict[Text, Any]]:
        found = self.entries.get(text)
        if found is None:
            self.misses += 1
            return None
        self.entries.move_to_end(text)
        self.hits += 1
        return copy.deepcopy(found)

    def put(self, text: str, parsed: Dict[Text, Any]) -> None:
        self.entries[text] = copy.deepcopy(parsed)
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)


def parse_cache(processor: Any) -> ParseCache:
    """The cache of one MessageProcessor (one loaded model)."""
    cache = processor.__dict__.get("_kefu_parse_cache")
    if cache is None:
        size = int(os.environ.get("KEFU_PARSE_CACHE_SIZE") or PARSE_CACHE_SIZE)
        cache = processor.__dict__["_kefu_parse_cache"] = ParseCache(size)
    return cache


def _cacheable(text: Any) -> bool:
    # "/intent{...}" payloads are parsed by the domain, not the graph
    return isinstance(text, str) and 0 < len(text) <= PARSE_CACHE_MAX_CHARS and not text.startswith("/")


def _parse_message_with_graph(self: Any, message: Any, tracker: Any, only_output_properties: bool = True) -> Dict[Text, Any]:
    assert _original_parse is not None
    if not only_output_properties or not _cacheable(message.text):
        return _original_parse(self, message, tracker, only_output_properties)
    cache = parse_cache(self)
    if cache.size <= 0:
        return _original_parse(self, message, tracker, only_output_properties)
    parsed = cache.get(message.text)
    if parsed is None:
        parsed = _original_parse(self, message, tracker, only_output_properties)
        cache.put(message.text, parsed)
    for key, value in (("message_id", message.message_id), ("metadata", message.metadata)):
        if key in parsed:
            parsed[key] = value
    return parsed


def install() -> None:
    """Install the fixes into the running Rasa (idempotent)."""
    global _installed, _original_parse, _original_events_check
    if _installed:
        return
    # here, not at the top: heavy (TensorFlow); install() runs inside the Rasa server only
    import rasa.core.processor
    import rasa.server
    from rasa.core.actions.action import RemoteAction
    from rasa.core.processor import MessageProcessor

    from bot.dialogue import lean_load, prior_states  # here: import TensorFlow / Rasa's domain (heavy), as above
    from bot.dialogue.graph_runner import PlainGraphRunner  # here: imports Rasa's engine (heavy), as above

    _original_events_check = rasa.server.validate_events_in_request_body
    rasa.server.validate_events_in_request_body = _validate_events_in_request_body
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    _original_parse = MessageProcessor._parse_message_with_graph
    MessageProcessor._parse_message_with_graph = _parse_message_with_graph  # type: ignore[method-assign]
    if switch(PLAIN_RUNNER_ENV):
        # the name MessageProcessor._load_model passes to rasa.engine.loader (inference only; training keeps dask)
        rasa.core.processor.DaskGraphRunner = PlainGraphRunner  # type: ignore[misc]
    lean_load.install()  # models loaded from now on (the server loads its model after the channels)
    prior_states.install()  # dialogue states extended turn by turn (KEFU_STATES_CACHE=0: Rasa's method)
    _installed = True
