"""Request bodies as JSON: a clear 4xx for anything odd, never a 500, never an echo.

Shared by the bridge (handoff/app.py ``read_json``) and Rasa's Kefu REST
channel (bot/channels/), so both refuse the same things the same way:

- more than ``limit`` bytes: 413;
- not UTF-8, not JSON: 400;
- nested deeper than ``MAX_DEPTH`` (``[[[[…]]]]`` made json.loads raise
  RecursionError, a 500): 400;
- a lone UTF-16 surrogate anywhere (``"\\ud800"`` is valid JSON but no string
  Redis, a log or a JSON response can encode, also a 500 before): 400.

Error details name the field and the rule, never the value sent: the bot
side logs refusals (actions.log), and a customer's words must not land
there. Standard library only, so the Rasa process can import it too.
"""
from __future__ import annotations

import json
import re
from typing import Any, Iterable, List, Tuple

from handoff.exceptions import BadRequest, PayloadTooLarge

#: deeper than any body the bridge or the channel accepts (transcript items are 3 deep)
MAX_DEPTH = 32
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
#: a path element shown in an error: schema property names and indices only
_SAFE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def check_tree(data: Any, max_depth: int = MAX_DEPTH) -> None:
    """Raise BadRequest when ``data`` nests deeper than ``max_depth`` or holds a lone surrogate."""
    stack: List[Tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if _LONE_SURROGATE.search(node):
                raise BadRequest("请求内容含有无效的字符 (lone UTF-16 surrogate)")
            continue
        if not isinstance(node, (dict, list)):
            continue
        if depth > max_depth:
            raise BadRequest(f"JSON 嵌套不能超过 {max_depth} 层")
        children: Iterable[Any] = node.values() if isinstance(node, dict) else node
        if isinstance(node, dict):
            stack.extend((key, depth) for key in node)
        stack.extend((child, depth + 1) for child in children)


def parse_json_body(body: bytes, limit: int) -> Any:
    """The JSON value of ``body`` ({} when empty), or a 4xx HandoffError saying why not."""
    if len(body) > limit:
        raise PayloadTooLarge(f"请求内容不能超过 {limit} 字节")
    if not body:
        return {}
    try:
        data = json.loads(body.decode("utf-8"))
    except RecursionError:
        raise BadRequest(f"JSON 嵌套不能超过 {MAX_DEPTH} 层") from None
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("请求内容不是有效的 JSON") from None
    check_tree(data)
    return data


def _where(path: Iterable[Any]) -> str:
    parts = [str(p) if isinstance(p, int) or _SAFE_KEY.fullmatch(str(p)) else "?" for p in path]
    return "/".join(parts) or "body"


def schema_error_detail(error: Any) -> str:
    """A jsonschema ValidationError as field + rule, without the offending value.

    jsonschema's own message quotes the instance (``'…4001 characters…' is
    too long``), which is the customer's text.
    """
    where, rule, value = _where(error.absolute_path), error.validator, error.validator_value
    if rule == "required":
        given = error.instance if isinstance(error.instance, dict) else {}
        missing = [str(name) for name in value if name not in given]
        return f"{where}: 缺少字段 {', '.join(missing)}"
    if rule == "additionalProperties":
        return f"{where}: 含有不支持的字段"
    if rule == "type":
        expected = value if isinstance(value, str) else "/".join(map(str, value))
        return f"{where}: 类型应为 {expected}"
    if rule == "maxLength":
        return f"{where}: 长度不能超过 {value}"
    if rule == "minLength":
        return f"{where}: 不能为空" if value == 1 else f"{where}: 长度不能少于 {value}"
    if rule == "enum":
        return f"{where}: 应为 {'、'.join(map(str, value))} 之一"
    if rule == "maxItems":
        return f"{where}: 最多 {value} 项"
    if rule in ("minimum", "maximum"):
        return f"{where}: 应{'不小于' if rule == 'minimum' else '不大于'} {value}"
    if rule == "pattern":
        return f"{where}: 格式不正确"
    return f"{where}: 内容不正确"
