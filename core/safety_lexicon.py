"""The safety lexicon (data/safety_lexicon.yml): danger cues, situations, follow-ups, emoji.

Read by the NLU safety net (bot/nlu/safety.py), by the channels' handoff gate
(bot/channels/gate.py: the instructions again for a waiting safety customer)
and by the action server (actions/safety.py: which instructions fit). Plain
YAML and regexes, no Rasa: the action server and the channels load it without
the NLU engine.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional

import yaml

from core.paths import SAFETY_LEXICON_FILE

GREET_INTENT = "greet"
UPSET_INTENT = "feel_upset"
SITUATIONS = ("injury", "door", "trip")


@dataclass(frozen=True)
class SafetyLexicon:
    keywords: List[str]
    patterns: List["re.Pattern[str]"]
    families: Dict[str, List["re.Pattern[str]"]] = field(default_factory=dict)
    situations: Dict[str, List[str]] = field(default_factory=dict)
    followup: List[str] = field(default_factory=list)
    greet_emoji: List[str] = field(default_factory=list)
    upset_emoji: List[str] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path = SAFETY_LEXICON_FILE) -> "SafetyLexicon":
        with open(path, encoding="utf-8") as handle:
            spec = yaml.safe_load(handle) or {}
        emoji = spec.get("emoji_only") or {}
        return cls(
            keywords=[str(k).lower() for k in spec.get("keywords", [])],
            patterns=[re.compile(p, re.IGNORECASE) for p in spec.get("patterns", [])],
            families={str(name): [re.compile(p, re.IGNORECASE) for p in patterns or []]
                      for name, patterns in (spec.get("families") or {}).items()},
            situations={str(k): [str(c) for c in v or []] for k, v in (spec.get("situations") or {}).items()},
            followup=[str(k) for k in spec.get("followup", [])],
            greet_emoji=[str(e) for e in emoji.get("greet", [])],
            upset_emoji=[str(e) for e in emoji.get("upset", [])],
        )

    def cues(self, text: str) -> List[str]:
        lowered = text.lower()
        found = [k for k in self.keywords if k in lowered]
        found += [m.group(0) for p in self.patterns for m in [p.search(text)] if m]
        found += [m.group(0) for patterns in self.families.values() for p in patterns for m in [p.search(text)] if m]
        return found

    def families_of(self, text: str) -> List[str]:
        """The families of danger whose patterns match ``text`` (Simplified)."""
        return [name for name, patterns in self.families.items() if any(p.search(text) for p in patterns)]

    def situation(self, text: str) -> str:
        """'injury' | 'door' | 'trip' | 'general': which instructions fit (Simplified text)."""
        for kind in SITUATIONS:
            if any(c in text for c in self.situations.get(kind, [])):
                return kind
        return "general"

    def is_followup(self, text: str) -> bool:
        """A waiting safety customer asking what to do now (我该怎么办 / 现在怎么办)."""
        return any(c in text for c in self.followup)

    def emoji_intent(self, text: str) -> Optional[str]:
        """greet / feel_upset for a message of emoji only, else None."""
        if any(c.isalnum() for c in text):
            return None
        if any(e in text for e in self.upset_emoji):
            return UPSET_INTENT
        if any(e in text for e in self.greet_emoji):
            return GREET_INTENT
        return None


@lru_cache(maxsize=1)
def default_lexicon() -> SafetyLexicon:
    """The lexicon from data/safety_lexicon.yml, loaded once (for the channels and actions)."""
    return SafetyLexicon.load()
