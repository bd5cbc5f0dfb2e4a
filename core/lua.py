"""Redis Lua scripts kept as ``.lua`` files beside the module that runs them.

Why files and not Python strings: a script reads, diffs and lints as Lua,
and its comments are Lua comments. Each module keeps its scripts in a
``lua/`` folder next to it (handoff/lua/, bot/stores/lua/, bot/channels/lua/)
and registers them once per Redis client with redis-py's ``register_script``
(EVALSHA, with EVAL only when the server does not know the script yet).

Paths are taken from the module's own ``__file__``, so the scripts are found
whatever the working directory. A file is read once per process (on first
use, not at import).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=None)
def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def source(module_file: str, name: str, prelude: str = "") -> str:
    """The text of ``lua/<name>.lua`` beside ``module_file``, after ``lua/<prelude>.lua`` if given.

    A prelude holds the local functions several scripts share (Redis has no
    ``require``): it is prepended, so a script sees them as its own.
    """
    folder = Path(module_file).resolve().parent / "lua"
    text = _read(folder / f"{name}.lua")
    return _read(folder / f"{prelude}.lua") + text if prelude else text
