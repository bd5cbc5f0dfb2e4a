"""Access to the trained model for tests (make test trains it first)."""
from __future__ import annotations

import asyncio
from functools import lru_cache
from typing import Any, Dict

from core.paths import ROOT

MODEL = ROOT / "models" / "kefu.tar.gz"


def load(lean: bool = True, **kwargs: Any) -> Any:
    """A fresh ``Agent`` on the trained model (``kwargs`` as ``Agent.load`` takes them).

    DIET and TED are loaded lean, as the Rasa server loads them (bot/dialogue/lean_load.py);
    ``lean=False`` loads them with Rasa's own load (tests/foundation/test_lean_load.py compares both).
    """
    # imported here, not at the top: loading Rasa costs seconds, and tests that only read
    # this module's MODEL path should not pay for it
    from rasa.core.agent import Agent

    from bot.dialogue import lean_load

    if not MODEL.exists():
        raise RuntimeError(f"{MODEL} missing: run `make train` (make test does it)")
    if not lean:
        with lean_load.rasa_load():
            return Agent.load(str(MODEL), **kwargs)
    lean_load.install()
    return Agent.load(str(MODEL), **kwargs)


def in_process_actions() -> Any:
    """An action endpoint that runs Kefu's custom actions in this process (no action server).

    The same rasa_sdk executor the action server serves, behind
    bot/dialogue/local_actions.py's endpoint.
    """
    # imported here, not at the top: the action package is loaded only by tests that run actions
    from rasa.utils.endpoints import EndpointConfig

    from bot.dialogue.local_actions import InProcessActionEndpoint, executor_for

    return InProcessActionEndpoint(EndpointConfig("http://in-process/webhook"), executor_for())


@lru_cache(maxsize=1)
def agent() -> Any:
    return load()


@lru_cache(maxsize=1)
def acting_agent() -> Any:
    """The model with Kefu's custom actions run in this process.

    A reply that comes from a custom action (action_fallback, the flows) is
    there as in the running stack. Use it where a test asserts what the
    customer reads.
    """
    return load(action_endpoint=in_process_actions())


def parse(text: str) -> Dict[str, Any]:
    return asyncio.run(agent().parse_message(text))
