"""Linter settings from ``data/lint.yml`` (editable by script editors)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Tuple

import yaml

# Responses that Rasa's built-in actions utter by name: action_default_fallback
# (utter_default), action_default_ask_rephrase (utter_ask_rephrase),
# action_restart (utter_restart), action_back (utter_back).
DEFAULT_BUILTIN_RESPONSES = ["utter_default", "utter_ask_rephrase", "utter_restart", "utter_back"]


@dataclass
class LintSettings:
    max_reply_chars: int = 160
    min_examples: int = 60
    # Intents that need neither training examples nor test stories (sent by
    # the system, not typed by customers). Intents starting with EXTERNAL_ are
    # always exempt.
    exempt_intents: List[str] = field(default_factory=lambda: ["nlu_fallback"])
    builtin_responses: List[str] = field(default_factory=lambda: list(DEFAULT_BUILTIN_RESPONSES))
    # Python code that may utter responses by name ("utter_...").
    code_dirs: List[str] = field(default_factory=lambda: ["actions", "bot", "handoff"])
    # Words with 你 that are accepted: 您们 is not standard Chinese, so the
    # plural 你们 stays allowed.
    allowed_ni_words: List[str] = field(default_factory=lambda: ["你们"])
    # Deliberate exceptions: (rule, name) where name is a response, an intent
    # or a file path relative to the repository.
    ignore: List[Tuple[str, str]] = field(default_factory=list)

    def ignored(self, rule: str, *names: str) -> bool:
        return any((rule, name) in self.ignore or ("*", name) in self.ignore for name in names)


def load_settings(root: Path) -> LintSettings:
    path = root / "data" / "lint.yml"
    raw: Dict[str, Any] = {}
    if path.exists():
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    settings = LintSettings()
    if "max_reply_chars" in raw:
        settings.max_reply_chars = int(raw["max_reply_chars"])
    if "min_examples" in raw:
        settings.min_examples = int(raw["min_examples"])
    for name in ("exempt_intents", "builtin_responses", "code_dirs", "allowed_ni_words"):
        if raw.get(name) is not None:
            setattr(settings, name, [str(item) for item in raw[name]])
    for item in raw.get("ignore") or []:
        if isinstance(item, dict) and item.get("name"):
            settings.ignore.append((str(item.get("rule", "*")), str(item["name"])))
    return settings
