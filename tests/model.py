"""Access to the trained model for tests (make test trains it first)."""
from __future__ import annotations

import asyncio
from functools import lru_cache
from typing import Any, Dict

from core.paths import ROOT

MODEL = ROOT / "models" / "kefu.tar.gz"


@lru_cache(maxsize=1)
def agent() -> Any:
    from rasa.core.agent import Agent

    if not MODEL.exists():
        raise RuntimeError(f"{MODEL} missing: run `make train` (make test does it)")
    return Agent.load(str(MODEL))


def parse(text: str) -> Dict[str, Any]:
    return asyncio.run(agent().parse_message(text))
