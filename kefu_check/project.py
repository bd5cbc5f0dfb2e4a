"""Everything the linter reads from a Rasa project, with file and line."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Set, Tuple

from yaml.nodes import MappingNode, Node, ScalarNode

from kefu_check.findings import Finding, relative
from kefu_check.settings import load_settings
from kefu_check.yamlpos import YamlError, compose, get, line_of, pairs, scalar, seq, text_line, walk

DATA_KEYS = ("nlu", "stories", "rules", "responses")
YAML_SUFFIXES = (".yml", ".yaml")
# "utter_x" in code; a trailing "_" followed by a quote or "{" marks a prefix
# built at run time (f"utter_ask_{slot}", "utter_identity_" + reason).
_CODE_UTTER = re.compile(r"utter_[A-Za-z0-9_]*(?:/[A-Za-z0-9_]+)?")


@dataclass
class ResponseText:
    """One text an editor wrote: a variant's text or a button title."""

    response: str
    text: str
    path: Path
    node: ScalarNode
    kind: str  # "text" or "button"

    def line_at(self, offset: int = 0) -> int:
        return text_line(self.node, offset)


@dataclass
class Example:
    intent: str
    text: str
    path: Path
    line: int


@dataclass
class Project:
    root: Path
    responses: Dict[str, Tuple[Path, int]] = field(default_factory=dict)
    texts: List[ResponseText] = field(default_factory=list)
    intents: Dict[str, Tuple[Path, int]] = field(default_factory=dict)
    slots: Set[str] = field(default_factory=set)
    forms: Dict[str, List[str]] = field(default_factory=dict)
    examples: List[Example] = field(default_factory=list)
    # First `- intent:` block of each intent in the training data.
    intent_blocks: Dict[str, Tuple[Path, int]] = field(default_factory=dict)
    eval_examples: List[Example] = field(default_factory=list)
    story_actions: Set[str] = field(default_factory=set)
    test_intents: Set[str] = field(default_factory=set)
    code_responses: Set[str] = field(default_factory=set)
    code_prefixes: Set[str] = field(default_factory=set)
    errors: List[Finding] = field(default_factory=list)

    def rel(self, path: Path) -> str:
        return relative(path, self.root)


def yaml_files(directory: Path) -> List[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.rglob("*") if p.is_file() and p.suffix in YAML_SUFFIXES)


def domain_files(root: Path) -> List[Path]:
    if (root / "domain").is_dir():
        return yaml_files(root / "domain")
    return [p for p in (root / "domain.yml", root / "domain.yaml") if p.is_file()]


def _compose(project: Project, path: Path) -> Optional[Node]:
    try:
        return compose(path)
    except YamlError as exc:
        project.errors.append(
            Finding(project.rel(path), exc.line, "yaml-error", f"YAML 格式错误: {exc.message}",
                    "检查缩进、冒号和引号(可以对照上下几行的写法)")
        )
        return None


def _read_responses(project: Project, path: Path, node: Optional[Node]) -> None:
    for name, key_node, variants in pairs(get(node, "responses")):
        project.responses.setdefault(name, (path, line_of(key_node)))
        for variant in seq(variants):
            text = get(variant, "text")
            if isinstance(text, ScalarNode) and text.value:
                project.texts.append(ResponseText(name, str(text.value), path, text, "text"))
            for button in seq(get(variant, "buttons")):
                title = get(button, "title")
                if isinstance(title, ScalarNode) and title.value:
                    project.texts.append(ResponseText(name, str(title.value), path, title, "button"))


def _read_domain(project: Project, path: Path, node: Optional[Node]) -> None:
    for item in seq(get(node, "intents")):
        name = scalar(item)
        if name is None and isinstance(item, MappingNode) and item.value:
            name = scalar(item.value[0][0])
        if name:
            project.intents.setdefault(name, (path, line_of(item)))
    project.slots.update(name for name, _, _ in pairs(get(node, "slots")))
    for form, _, spec in pairs(get(node, "forms")):
        required = [scalar(s) for s in seq(get(spec, "required_slots"))]
        project.forms[form] = [s for s in required if s]
    _read_responses(project, path, node)


def _example_lines(path: Path, examples: Node, raw_lines: List[str]) -> Iterator[Tuple[str, int]]:
    """(example text, 1-based line) of one ``examples`` node."""
    if isinstance(examples, ScalarNode):
        start = line_of(examples)
        cursor = start - 1
        for index, line in enumerate(str(examples.value).split("\n")):
            stripped = line.strip()
            if not stripped.startswith("- "):
                continue
            text = stripped[2:].strip()
            if examples.style == "|":
                yield text, start + 1 + index
                continue
            found = start
            for number in range(cursor, len(raw_lines)):
                if text in raw_lines[number]:
                    found, cursor = number + 1, number + 1
                    break
            yield text, found
    else:
        for item in seq(examples):
            text_node = get(item, "text") if isinstance(item, MappingNode) else item
            if isinstance(text_node, ScalarNode):
                offset = 1 if text_node.style in ("|", ">") else 0
                yield str(text_node.value).strip(), line_of(text_node) + offset


def _read_nlu(project: Project, path: Path, node: Optional[Node], target: List[Example], blocks: bool) -> None:
    raw_lines = path.read_text(encoding="utf-8").split("\n")
    for block in seq(get(node, "nlu")):
        intent = scalar(get(block, "intent"))
        examples = get(block, "examples")
        if not intent or examples is None:
            continue
        if blocks:
            project.intent_blocks.setdefault(intent.split("/")[0], (path, line_of(block)))
        for text, line in _example_lines(path, examples, raw_lines):
            if text:
                target.append(Example(intent, text, path, line))


def _read_code(project: Project) -> None:
    for directory in load_settings(project.root).code_dirs:
        base = project.root / directory
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*.py")):
            source = path.read_text(encoding="utf-8", errors="replace")
            for match in _CODE_UTTER.finditer(source):
                token = match.group(0)
                after = source[match.end(): match.end() + 1]
                if token.endswith("_") or after == "{":
                    if len(token.rstrip("_")) > len("utter"):
                        project.code_prefixes.add(token)
                else:
                    project.code_responses.add(token)


def load_project(root: Path) -> Project:
    """Read domain, training data, evaluation set, test stories and code."""
    project = Project(root=root)
    for path in domain_files(root):
        node = _compose(project, path)
        if node is not None:
            _read_domain(project, path, node)
    for path in yaml_files(root / "data"):
        node = _compose(project, path)
        if node is None or not any(get(node, key) is not None for key in DATA_KEYS):
            continue  # settings files such as data/lint.yml or data/patterns.yml
        _read_responses(project, path, node)
        _read_nlu(project, path, node, project.examples, blocks=True)
        for key, value in walk(get(node, "stories")):
            _collect_step(project, key, value)
        for key, value in walk(get(node, "rules")):
            _collect_step(project, key, value)
    for path in yaml_files(root / "tests" / "nlu"):
        node = _compose(project, path)
        if node is not None:
            _read_nlu(project, path, node, project.eval_examples, blocks=False)
    for path in yaml_files(root / "tests" / "test_stories"):
        node = _compose(project, path)
        for key, value in walk(node):
            if key == "intent" and scalar(value):
                project.test_intents.add(str(scalar(value)).split("/")[0])
    _read_code(project)
    return project


def _collect_step(project: Project, key: str, value: Node) -> None:
    name = scalar(value)
    if not name:
        return
    if key == "action":
        project.story_actions.add(name)
    elif key == "active_loop":
        project.story_actions.add(name)
