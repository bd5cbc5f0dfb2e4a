"""Request bodies as JSON: a clear 4xx for anything odd, never a 500, never an echo.

Shared by the bridge (handoff/routes/common.py ``read_body``) and Rasa's Kefu REST
channel (bot/channels/), so both refuse the same things the same way:

- more than ``limit`` bytes: 413;
- not UTF-8, not JSON: 400;
- nested deeper than ``MAX_DEPTH`` (``[[[[…]]]]`` made json.loads raise
  RecursionError, a 500): 400;
- a lone UTF-16 surrogate anywhere (``"\\ud800"`` is valid JSON but no string
  Redis, a log or a JSON response can encode, also a 500 before): 400.

Error details never quote the value sent: the bot side logs refusals
(actions.log), and a customer's words must not land there (the bridge's
field errors, handoff/models.py ``error_detail``, follow the same rule).
Standard library only, so the Rasa process can import it too.
"""
from __future__ import annotations

import json
import re
from typing import Any, Iterable, List, Tuple

from handoff.exceptions import BadRequest, PayloadTooLarge

#: deeper than any body the bridge or the channel accepts (transcript items are 3 deep)
MAX_DEPTH = 32
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


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

