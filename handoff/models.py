"""Every request body the bridge takes, as a typed pydantic model (pydantic 1.10, Rasa's pin).

The models are the one description of the bodies: the routes validate with
them (handoff/routes/common.py ``read_body``) and the OpenAPI document is
generated from them (handoff/openapi.py), so the two cannot drift apart.

JSON's rules, not Python's: strings, booleans and integers are strict (12345
is no string, "true" no boolean), null is refused where a value is
optional, a nested object must be an object, unknown fields are refused
(the transcript lines of an escalation excepted, as before). Errors are
told as field + rule (:func:`error_detail`) and never quote the value sent:
it is the customer's text.
"""
from __future__ import annotations

import re
from typing import Any, Dict, Iterable, Literal, Sequence, Type, TypeVar, get_args

from pydantic import BaseModel, ConstrainedInt, ConstrainedList, ConstrainedStr, Extra, StrictBool, ValidationError
from pydantic.errors import DictError

SENDER_PATTERN = r"^[^\x00-\x1f\x7f/]{1,128}$"
TICKET_PATTERN = r"^[0-9a-f]{16}$"
STREAM_ID_PATTERN = r"^(0|[0-9]{1,20}-[0-9]{1,20})$"
#: an idempotency key: the console's client_id, the bot side's escalation_id
KEY_PATTERN = r"^[A-Za-z0-9_\-]{8,64}$"

#: why the bot side escalates (the ticket's reason; handoff/queue priority_for ranks them)
Reason = Literal["safety", "request_human", "fallback", "identity_failed", "low_rating", "anger", "over_limit", "unresolved"]
REASONS = get_args(Reason)


class _Str(ConstrainedStr):
    strict = True


class Text(_Str):
    """A message: 1 to 4,000 characters."""

    min_length = 1
    max_length = 4000


class Sender(_Str):
    """A conversation id that is a safe Redis key and URL segment (handoff/intake.py makes one)."""

    regex = re.compile(SENDER_PATTERN)


class Key(_Str):
    regex = re.compile(KEY_PATTERN)


class TicketId(_Str):
    regex = re.compile(TICKET_PATTERN)


class StreamId(_Str):
    regex = re.compile(STREAM_ID_PATTERN)


class Flow(_Str):
    regex = re.compile(r"^[a-z_][a-z0-9_]{0,63}$")


class Name(_Str):
    """An agent id or a skill."""

    min_length = 1
    max_length = 64


class Short(_Str):
    max_length = 64


class Word(_Str):
    max_length = 32


class Summary(_Str):
    max_length = 500


class Line(_Str):
    max_length = 4000


class NoteText(_Str):
    min_length = 1
    max_length = 2000


class Index(ConstrainedInt):
    strict = True
    ge = 0
    le = 100


class Millis(ConstrainedInt):
    strict = True
    ge = 0


class TicketIds(ConstrainedList):
    item_type = TicketId
    __args__ = (TicketId,)
    max_items = 50


class Intents(ConstrainedList):
    item_type = Short
    __args__ = (Short,)
    max_items = 200


def _tidy_schema(schema: Dict[str, Any], model: Type[BaseModel]) -> None:
    """No per-property titles or defaults in the document (a default "" would break its own pattern)."""
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)
        prop.pop("default", None)


class Body(BaseModel):
    """A JSON object with exactly these fields."""

    class Config:
        extra = Extra.forbid
        schema_extra = staticmethod(_tidy_schema)

    @classmethod
    def validate(cls: Type[B], value: Any) -> B:
        # pydantic would turn a list of pairs into a dict: JSON's object is the only object here
        if not isinstance(value, dict):
            raise DictError()
        return super().validate(value)  # type: ignore[misc]


B = TypeVar("B", bound=Body)


class AgentMessage(Body):
    """An agent's reply to the customer."""

    text: Text
    #: the console's idempotency key: a retried send is not sent twice
    client_id: Key = ""  # type: ignore[assignment]


class RenewChats(Body):
    """The chats the console shows, to renew (at most 50)."""

    ticket_ids: TicketIds


class Note(Body):
    """An internal note on a held ticket (agents only)."""

    text: NoteText


class Transfer(Body):
    """To an agent (agent_id), a skill group (skill), or both."""

    agent_id: Name = ""  # type: ignore[assignment]
    skill: Name = ""  # type: ignore[assignment]


class Handback(Body):
    """Back to the bot, into one of its flows."""

    flow: Flow


class Reveal(Body):
    """Which masked value of which message to show in clear (audited)."""

    message_id: StreamId
    index: Index


class TranscriptLine(Body):
    """One line of the conversation so far; other fields are ignored (the bot side may add some)."""

    class Config:
        extra = Extra.ignore

    role: Literal["user", "bot", "agent"]
    text: Line
    ts: Millis = 0  # type: ignore[assignment]


class TranscriptLines(ConstrainedList):
    item_type = TranscriptLine
    __args__ = (TranscriptLine,)
    max_items = 200


class Escalate(Body):
    """A conversation for the queue, from the bot side (handoff/intake.py first makes it safe)."""

    sender: Sender
    reason: Reason
    channel: Short = ""  # type: ignore[assignment]
    priority: Literal["P0", "P1", "P2"] = "P2"
    summary: Summary = ""  # type: ignore[assignment]
    intents: Intents = []  # type: ignore[assignment]
    order_id: Short = ""  # type: ignore[assignment]
    order_type: Word = ""  # type: ignore[assignment]
    sentiment: Word = ""  # type: ignore[assignment]
    escalation_id: Key = ""  # type: ignore[assignment]
    traditional: StrictBool = False
    delayed: StrictBool = False
    transcript: TranscriptLines = []  # type: ignore[assignment]


class CustomerMessage(Body):
    """A customer's message during a handoff."""

    sender: Sender
    text: Text


class Typing(Body):
    """The in-app customer is (or stopped) typing."""

    typing: StrictBool


class Presence(Body):
    """The in-app customer's chat page is open (heartbeat) or closed."""

    online: StrictBool


class SenderOnly(Body):
    """The conversation an internal call is about."""

    sender: Sender


#: every body model, by the name the OpenAPI document gives it
MODELS: Sequence[Type[Body]] = (
    AgentMessage, RenewChats, Note, Transfer, Handback, Reveal, Escalate, CustomerMessage, Typing, Presence, SenderOnly,
)


# ---- error details -------------------------------------------------------------------------

#: a path element shown in an error: field names and indices only
_SAFE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_TYPES = {"type_error.str": "string", "type_error.integer": "integer", "value_error.strictbool": "boolean",
          "type_error.list": "array", "type_error.dict": "object"}


def _where(path: Iterable[Any]) -> str:
    parts = [str(p) if isinstance(p, int) or _SAFE_KEY.fullmatch(str(p)) else "?" for p in path]
    return "/".join(parts) or "body"


def _rule(kind: str, ctx: Dict[str, Any]) -> str:
    if kind in _TYPES:
        return f"类型应为 {_TYPES[kind]}"
    if kind == "type_error.none.not_allowed":
        return "不能为 null"
    if kind == "value_error.any_str.max_length":
        return f"长度不能超过 {ctx['limit_value']}"
    if kind == "value_error.any_str.min_length":
        return "不能为空" if ctx["limit_value"] == 1 else f"长度不能少于 {ctx['limit_value']}"
    if kind == "value_error.const":
        return f"应为 {'、'.join(map(str, ctx['permitted']))} 之一"
    if kind == "value_error.list.max_items":
        return f"最多 {ctx['limit_value']} 项"
    if kind == "value_error.number.not_ge":
        return f"应不小于 {ctx['limit_value']}"
    if kind == "value_error.number.not_le":
        return f"应不大于 {ctx['limit_value']}"
    if kind == "value_error.str.regex":
        return "格式不正确"
    return "内容不正确"


def error_detail(exc: ValidationError) -> str:
    """The first problem as field + rule, without the offending value (a missing field is named).

    Missing and unknown fields are told at their object ("body: 缺少字段 text"),
    an unknown field without its name (the name is the sender's text too).
    """
    errors = exc.errors()
    structural = ("value_error.missing", "value_error.extra")

    def at(error: Dict[str, Any]) -> str:
        loc = list(error["loc"])
        return _where(loc[:-1] if error["type"] in structural else loc)

    first = min(errors, key=lambda e: (at(e) != "body", at(e)))
    where = at(first)
    if first["type"] == "value_error.missing":
        missing = [str(e["loc"][-1]) for e in errors if e["type"] == "value_error.missing" and at(e) == where]
        return f"{where}: 缺少字段 {', '.join(missing)}"
    if first["type"] == "value_error.extra":
        return f"{where}: 含有不支持的字段"
    return f"{where}: {_rule(first['type'], first.get('ctx') or {})}"

