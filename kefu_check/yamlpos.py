"""YAML with line numbers: thin helpers over ``yaml.compose`` nodes."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator, List, Optional, Tuple

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode


class YamlError(Exception):
    """A file could not be parsed; carries the 1-based line of the problem."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line
        self.message = message


def compose(path: Path) -> Optional[Node]:
    """The node tree of ``path`` (None for an empty file)."""
    text = path.read_text(encoding="utf-8")
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise YamlError(path, line, str(exc.problem or exc)) from exc


def line_of(node: Node) -> int:
    """1-based line where ``node`` starts."""
    return int(node.start_mark.line) + 1


def get(node: Optional[Node], key: str) -> Optional[Node]:
    """Value node for ``key`` in a mapping node (None when absent or not a mapping)."""
    if not isinstance(node, MappingNode):
        return None
    for key_node, value_node in node.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            return value_node
    return None


def pairs(node: Optional[Node]) -> Iterator[Tuple[str, Node, Node]]:
    """(key, key node, value node) of a mapping node with scalar keys."""
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode):
                yield str(key_node.value), key_node, value_node


def seq(node: Optional[Node]) -> List[Node]:
    return list(node.value) if isinstance(node, SequenceNode) else []


def scalar(node: Optional[Node]) -> Optional[str]:
    return str(node.value) if isinstance(node, ScalarNode) else None


def text_line(node: ScalarNode, offset: int) -> int:
    """1-based file line of character ``offset`` inside scalar ``node``.

    Exact for literal blocks (``|``), where content lines map 1:1 to file
    lines; plain and quoted scalars count folded line breaks, which is the
    best available without re-scanning the source.
    """
    start = line_of(node)
    before = str(node.value)[:offset]
    if node.style == "|":
        return start + 1 + before.count("\n")
    if node.style == ">":
        return start + 1
    return start


def walk(node: Optional[Node]) -> Iterator[Tuple[str, Node]]:
    """Every (key, value node) pair anywhere below ``node``."""
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode):
                yield str(key_node.value), value_node
            yield from walk(value_node)
    elif isinstance(node, SequenceNode):
        for item in node.value:
            yield from walk(item)
