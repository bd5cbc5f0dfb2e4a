"""Service-language gate for every response in domain/*.yml.

- the customer is addressed as 您, never 你 (text inside “…”/「…」 quotes is
  the customer's own words and is skipped for this check);
- none of the forbidden phrases in data/forbidden_phrases.yml, not even as
  part of a longer word;
- every response an action utters exists, and every intent is handled.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest
import yaml

from bot.dialogue.answer_policy import AnswerPolicy

ROOT = Path(__file__).resolve().parent.parent
QUOTED = re.compile(r"“[^”]*”|「[^」]*」|\"[^\"]*\"")


def domain_files() -> List[Path]:
    return sorted((ROOT / "domain").glob("*.yml"))


def responses() -> Dict[str, List[dict]]:
    merged: Dict[str, List[dict]] = {}
    for path in domain_files():
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for name, variants in (data.get("responses") or {}).items():
            merged.setdefault(name, []).extend(variants or [])
    return merged


def texts() -> Iterator[Tuple[str, str]]:
    for name, variants in responses().items():
        for variant in variants:
            if variant.get("text"):
                yield name, variant["text"]
            for button in variant.get("buttons") or []:
                yield name, button.get("title", "")


def forbidden() -> List[dict]:
    data = yaml.safe_load((ROOT / "data" / "forbidden_phrases.yml").read_text(encoding="utf-8"))
    return data["forbidden"]


ALL_TEXTS = list(texts())


def test_forbidden_list_is_well_formed():
    entries = forbidden()
    assert len(entries) >= 16
    assert all(e.get("phrase") and e.get("suggestion") for e in entries)


@pytest.mark.parametrize("name,text", ALL_TEXTS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(ALL_TEXTS)])
def test_polite_address(name, text):
    assert "你" not in QUOTED.sub("", text), f"{name}: address the customer as 您: {text}"


@pytest.mark.parametrize("name,text", ALL_TEXTS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(ALL_TEXTS)])
def test_no_forbidden_phrase(name, text):
    for entry in forbidden():
        assert entry["phrase"] not in text, f"{name}: “{entry['phrase']}” → {entry['suggestion']}: {text}"


def test_responses_used_by_actions_exist():
    known = set(responses())
    used = set()
    for path in (ROOT / "actions").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"response=\"(utter_[a-z_]+)\"", source))
        used |= set(re.findall(r"\"(utter_[a-z_]+)\"", source))
        for prefix in re.findall(r"response=f\"(utter_[a-z_]+)\{order\.order_type\}\"", source):
            used |= {f"{prefix}{t}" for t in ("ride", "food", "parcel")}
    missing = sorted(used - known)
    assert not missing, f"responses uttered by actions but missing from domain/: {missing}"


def test_frequent_responses_have_variants():
    frequent = ["utter_ask_order_id", "utter_ask_resolved", "utter_anything_else", "utter_refund_offer",
                "utter_delay_apology", "utter_fallback_rephrase", "utter_request_human_ack"]
    all_responses = responses()
    assert all(len(all_responses[name]) >= 2 for name in frequent)


def test_every_intent_is_handled_by_a_rule_or_story():
    intents = set()
    for path in domain_files():
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        intents |= {i if isinstance(i, str) else next(iter(i)) for i in data.get("intents") or []}
    handled = set()
    for path in [ROOT / "data" / "rules.yml", ROOT / "data" / "stories.yml",
                 *(ROOT / "data" / "rules").glob("*.yml"), *(ROOT / "data" / "stories").glob("*.yml")]:
        if path.exists():
            handled |= set(re.findall(r"intent: (\w+)", path.read_text(encoding="utf-8")))
    # answers to the bot's own questions go through the answer policy (config.yml)
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    answer_policy = next(p for p in config["policies"] if p["name"] == "bot.dialogue.answer_policy.AnswerPolicy")
    defaults = AnswerPolicy.get_default_config()
    handled |= set(answer_policy.get("unprompted_intents", defaults["unprompted_intents"]))
    assert not sorted(intents - handled)


def test_complaint_reply_order():
    """安抚情绪 → 澄清问题 → 提供方案 → 确认满意度."""
    rules = (ROOT / "data" / "rules" / "flows.yml").read_text(encoding="utf-8")
    assert re.search(r"intent: complain_service\n\s+- action: utter_complaint_soothe\n\s+- action: identity_form", rules)
    all_responses = responses()
    for order_type in ("ride", "food", "parcel"):
        text = all_responses[f"utter_complaint_recorded_{order_type}"][0]["text"]
        assert text.index("确认") < text.index("工单") < text.index("回访")
    assert all("吗" in v["text"] for v in all_responses["utter_complaint_confirm"])


_PLACEHOLDER = re.compile(r"(?<!\{)\{[^\n{}]+\}(?!\})")


def test_button_payloads_render_to_what_the_bot_reads() -> None:
    """A payload's JSON braces must not read as a {placeholder}: Rasa would log a traceback per
    button and keep the text only by luck. Doubled braces render to the payload itself."""
    from rasa.core.nlg.interpolator import interpolate  # Rasa's own filling; only this test needs it

    checked = 0
    for name, variants in responses().items():
        for variant in variants:
            for button in variant.get("buttons") or []:
                raw = str(button.get("payload") or "")
                assert not _PLACEHOLDER.search(raw), f"{name}: {raw} reads as a placeholder"
                rendered = interpolate(raw, {})
                intent, _, entities = rendered.partition("{")
                assert re.fullmatch(r"/[a-z_]+", intent), (name, rendered)
                if entities:
                    assert isinstance(json.loads("{" + entities), dict), (name, rendered)
                checked += 1
    assert checked >= 5

