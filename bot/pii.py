"""Find and mask personal data with the project's spaCy pipeline.

Used by the handoff bridge for everything an agent or a log sees. Phone
numbers keep their first three and last four digits (138****5678), as the
service guide asks when echoing them; other values keep a short tail.
"""
from __future__ import annotations

import re
from typing import Dict, List

PII_LABELS = {"phone_number", "email", "id_card", "bank_card", "address"}


def find_pii(text: str) -> List[Dict[str, object]]:
    from bot.zh_pipeline import load

    if not text:
        return []
    doc = load()(text)
    return [
        {"label": ent.label_, "start": ent.start_char, "end": ent.end_char, "value": ent.text}
        for ent in doc.ents
        if ent.label_ in PII_LABELS
    ]


def mask_value(label: str, value: str) -> str:
    if label == "phone_number":
        digits = re.sub(r"\D", "", value)[-11:]
        return f"{digits[:3]}****{digits[-4:]}" if len(digits) == 11 else "*" * len(value)
    if label == "email":
        name, _, domain = value.partition("@")
        return f"{name[:1]}***@{domain}"
    if label in ("id_card", "bank_card"):
        compact = re.sub(r"[\s-]", "", value)
        return "*" * (len(compact) - 4) + compact[-4:]
    if label == "address":
        return value[:3] + "*" * max(len(value) - 3, 3)
    return "*" * len(value)


def mask_text(text: str) -> str:
    """``text`` with every personal value replaced by its masked form."""
    if not text:
        return text
    out, cursor = [], 0
    for item in find_pii(text):
        start, end = int(item["start"]), int(item["end"])  # type: ignore[arg-type]
        out.append(text[cursor:start])
        out.append(mask_value(str(item["label"]), str(item["value"])))
        cursor = end
    out.append(text[cursor:])
    return "".join(out)
