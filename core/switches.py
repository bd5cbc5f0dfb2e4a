"""On/off settings from the environment, all read the same way.

``KEFU_ACTIONS_IN_PROCESS``, ``KEFU_GC_FREEZE``, ``KEFU_LEAN_MODEL_LOAD`` and
``KEFU_PLAIN_GRAPH_RUNNER`` each turn one speed-up off (README, environment
table). Each takes ``1``/``0``, ``true``/``false``, ``yes``/``no`` or
``on``/``off`` in any case; unset or empty means the default. Anything else
is a :class:`SwitchError`: ``KEFU_GC_FREEZE=flase`` must stop the start, not
leave the speed-up on while its operator believes it is off. The stack checks
every switch before it starts a process (bot/runner/settings.py), so a typo
is one line at ``make run``, not a traceback in a Rasa worker's log.
"""
from __future__ import annotations

import os
from typing import Mapping, Optional, Tuple

#: every on/off setting, on by default (the modules that read them say what each does)
SWITCHES: Tuple[str, ...] = (
    "KEFU_ACTIONS_IN_PROCESS",
    "KEFU_GC_FREEZE",
    "KEFU_LEAN_MODEL_LOAD",
    "KEFU_PLAIN_GRAPH_RUNNER",
)

_ON = frozenset({"1", "true", "yes", "on"})
_OFF = frozenset({"0", "false", "no", "off"})


class SwitchError(ValueError):
    """An on/off setting that is neither; the message names it and the values it takes."""


def switch(name: str, default: bool = True, environ: Optional[Mapping[str, str]] = None) -> bool:
    """The setting ``name`` as a bool: ``default`` when unset or empty."""
    raw = (os.environ if environ is None else environ).get(name)
    value = (raw or "").strip().lower()
    if not value:
        return default
    if value in _ON:
        return True
    if value in _OFF:
        return False
    raise SwitchError(f"{name}={raw!r} 应为开或关: 1/0, true/false, yes/no, on/off (expected on or off)")
