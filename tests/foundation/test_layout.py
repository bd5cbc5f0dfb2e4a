"""The layering of the packages (README, "The layout"), read from the source with ``ast``.

- core/ is what every process shares: it imports none of bot/, actions/, handoff/, orders/;
- orders/ (the order platform adapter) imports only core/;
- handoff/ (the bridge) imports core/ and orders/ only: never bot/ (Rasa) or actions/;
- actions/ (the action server) never imports bot/: the action server does not load Rasa.

Every import counts, also one inside a function, a relative one and
``importlib.import_module("...")`` with a literal name: a lazy import is still
a dependency. Only the project's own packages are checked; the standard library
and third-party packages are free.
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, FrozenSet, Iterator, List, Tuple

from core.paths import ROOT

#: the project's own top-level packages (an import of anything else is a library)
FIRST_PARTY = frozenset({"actions", "bench", "bot", "core", "handoff", "kefu_check", "orders", "scripts", "tests"})

#: package -> the first-party packages it may import (itself included)
ALLOWED: Dict[str, FrozenSet[str]] = {
    "core": frozenset({"core"}),
    "orders": frozenset({"core", "orders"}),
    "handoff": frozenset({"core", "orders", "handoff"}),
    "actions": FIRST_PARTY - {"bot", "kefu_check", "bench", "scripts", "tests"},
}


def imported_modules(source: str, module: str) -> Iterator[Tuple[int, str]]:
    """(line, dotted name) of every import in ``source`` of the module ``module`` (a.b.c)."""
    package = module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # from . import x / from ..core import y: resolved against the package
                base = package[: len(package) - node.level + 1]
                yield node.lineno, ".".join(base + ([node.module] if node.module else []))
            elif node.module:
                yield node.lineno, node.module
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"):
            yield node.lineno, node.args[0].value


def violations(package: str, root: Path = ROOT) -> List[str]:
    """``path:line imports name`` for each first-party import ``package`` may not make."""
    found = []
    for path in sorted((root / package).rglob("*.py")):
        relative = path.relative_to(root)
        module = ".".join(relative.with_suffix("").parts)  # a/__init__.py: a.__init__, whose package is a
        for line, name in imported_modules(path.read_text(encoding="utf-8"), module):
            top = name.split(".")[0]
            if top in FIRST_PARTY and top not in ALLOWED[package]:
                found.append(f"{relative}:{line} imports {name}")
    return found


def test_core_imports_none_of_bot_actions_handoff_orders() -> None:
    assert violations("core") == []


def test_orders_imports_only_core() -> None:
    assert violations("orders") == []


def test_handoff_imports_only_core_and_orders() -> None:
    """The bridge runs without Rasa and without the action server."""
    assert violations("handoff") == []


def test_actions_never_import_bot() -> None:
    """The action server does not load Rasa's NLU engine (bot/): what both need is in core/."""
    assert violations("actions") == []


def test_every_kind_of_import_is_seen(tmp_path: Path) -> None:
    """The checker itself: a top-level, a lazy, a relative and an import_module dependency all count."""
    core = tmp_path / "core"
    core.mkdir()
    (core / "__init__.py").write_text("", encoding="utf-8")
    (core / "bad.py").write_text(
        "import os\n"
        "import bot.channels.gate\n"
        "from core import paths\n"
        "def later():\n"
        "    from actions.common import handoff\n"
        "    import importlib\n"
        "    return importlib.import_module('handoff.queue')\n",
        encoding="utf-8",
    )
    (core / "rel.py").write_text("from ..orders import service\nfrom . import paths\n", encoding="utf-8")
    assert violations("core", root=tmp_path) == [
        "core/bad.py:2 imports bot.channels.gate",
        "core/bad.py:5 imports actions.common",
        "core/bad.py:7 imports handoff.queue",
        "core/rel.py:1 imports orders",
    ]


#: where an import inside a function needs a comment saying why (a cycle, a heavy or optional library)
EXPLAINED_LAZY_IMPORTS = ("bot", "core", "orders", "actions", "kefu_check", "scripts")


def unexplained_lazy_imports(source: str) -> List[int]:
    """Lines of imports inside a function with no comment on their block or the line above it."""
    lines = source.splitlines()
    found = []
    for func in ast.walk(ast.parse(source)):
        if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(func):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            first = node.lineno - 1
            while first > 0 and lines[first - 1].lstrip().startswith(("import ", "from ")):
                first -= 1  # a block of imports shares one comment
            block = lines[max(first - 1, 0): node.end_lineno or node.lineno]
            if not any("#" in line for line in block):
                found.append(node.lineno)
    return found


def test_imports_inside_functions_say_why() -> None:
    """House rule: no function-local import without a comment (a cycle, or a heavy/optional library)."""
    found = [f"{path.relative_to(ROOT)}:{line}"
             for package in EXPLAINED_LAZY_IMPORTS for path in sorted((ROOT / package).rglob("*.py"))
             for line in unexplained_lazy_imports(path.read_text(encoding="utf-8"))]
    assert found == []


def test_an_unexplained_lazy_import_is_found() -> None:
    source = ("def a():\n    import json\n    return json\n\n"
              "def b():\n    # here, not at the top: heavy\n    import rasa.server\n    from rasa import core\n\n"
              "def c():\n    import yaml  # here: optional\n")
    assert unexplained_lazy_imports(source) == [2]
