"""Service wording for agents: the forbidden phrases (服务忌语) and the check every send passes.

The phrases live in data/forbidden_phrases.yml (script editors extend it);
the console warns as the agent types and the bridge refuses a message that
still contains one (handoff.exceptions.ForbiddenPhrase), so a click on 发送
cannot get one past the warning.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Dict, List, Tuple

import yaml

PHRASES_FILE = Path(__file__).resolve().parent.parent / "data" / "forbidden_phrases.yml"


@functools.lru_cache(maxsize=1)
def _load(path: Path, mtime: float) -> Tuple[Dict[str, str], ...]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return tuple({"phrase": str(f["phrase"]), "suggestion": str(f.get("suggestion") or "")}
                 for f in data.get("forbidden") or [] if f.get("phrase"))


def forbidden() -> List[Dict[str, str]]:
    """Every forbidden phrase with its suggested wording (re-read when the file changes)."""
    if not PHRASES_FILE.exists():
        return []
    return list(_load(PHRASES_FILE, PHRASES_FILE.stat().st_mtime))


def forbidden_in(text: str) -> List[Dict[str, str]]:
    """The forbidden phrases ``text`` contains (also inside a longer word, as the file says)."""
    return [f for f in forbidden() if f["phrase"] in text]
