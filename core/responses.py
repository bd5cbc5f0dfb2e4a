"""Domain responses for code that runs outside Rasa's NLG (channels, bridge).

Every sentence a customer reads lives in ``domain/*.yml``. This module loads
the responses once (on first use), picks a variant, fills ``{variables}``
and, when asked, converts the template to Traditional with OpenCC before the
variables are filled (so numbers and names keep their exact characters).
"""
from __future__ import annotations

import random
import string
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

import yaml

from core.paths import ROOT
from core.text import convert_response

DOMAIN_DIR = ROOT / "domain"


class MissingResponse(KeyError):
    """The domain has no response with this name."""


@lru_cache(maxsize=4)
def load_responses(domain_dir: Path = DOMAIN_DIR) -> Dict[str, List[Dict[str, Any]]]:
    """{utter name: [variant, ...]} from every domain file."""
    responses: Dict[str, List[Dict[str, Any]]] = {}
    for path in sorted(domain_dir.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for name, variants in (data.get("responses") or {}).items():
            responses.setdefault(str(name), []).extend(v for v in variants or [] if isinstance(v, dict))
    return responses


class _Blank(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return ""


def _fill(template: str, variables: Mapping[str, Any]) -> str:
    names = [name for _, name, _, _ in string.Formatter().parse(template) if name]
    if not names:
        return template
    return template.format_map(_Blank({k: "" if v is None else v for k, v in variables.items()}))


def render(
    name: str,
    traditional: bool = False,
    rng: Optional[random.Random] = None,
    domain_dir: Path = DOMAIN_DIR,
    **variables: Any,
) -> str:
    """The text of one variant of ``name`` with ``variables`` filled in."""
    variants = [v for v in load_responses(domain_dir).get(name, []) if isinstance(v.get("text"), str)]
    if not variants:
        raise MissingResponse(name)
    template = str((rng or random).choice(variants)["text"])
    if traditional:
        template = str(convert_response({"text": template})["text"])
    return _fill(template, variables)
