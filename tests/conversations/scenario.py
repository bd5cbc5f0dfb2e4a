"""End-to-end conversation scenarios: the format, the loader and the checks.

A scenario is what a customer types (or clicks) and, after chosen turns,
what a customer or an agent can SEE: reply text, buttons, the script of the
reply, whether it is a "did not understand" answer, and the agent queue.
Never action or response names, so the suite survives a rewrite of the
dialogue. Files live in ``scenarios/*.yml``::

    scenarios:
    - name: 外卖超时, 接受补偿
      covers: [eta_facts, offer_accept]      # behaviour ids (README of the folder)
      channel: rest                          # rest (default) | socketio | both
      customer: "13812345678"                # optional: signed in through the app (a signed identity)
      turns:
      - say: 我的外卖怎么还没到
        expect:
          says: ["订单号|手机号"]             # every item must appear; "a|b" = either
      - say: "13812345678"
        expect: {buttons: 2}
      - click: 牛肉面                          # the offered button whose title contains it
        expect:
          says: ["分钟"]                        # in the reply text
          shows: ["王师傅"]                     # in the text or on a button
          not_says: ["0分钟"]
          script: hans                       # hans | hant: every part of every reply
          queue: none                        # P0 | P1 | P2 | none (this customer's ticket)

Text is compared in Simplified on both sides, so an expectation written in
Simplified also matches a Traditional reply (the ``script`` check says which
script it must be in).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import yaml

from core.text import to_simplified, to_traditional

HERE = Path(__file__).resolve().parent
SCENARIOS = HERE / "scenarios"
DOMAIN = HERE.parent.parent / "domain"
#: domain responses that mean "I did not understand": a turn may not get one
#: unless it says ``fallback: ok``. Only the runner knows these names.
FALLBACK_RESPONSES = ("utter_default", "utter_fallback_rephrase", "utter_fallback_handoff")
EXPECT_KEYS = {
    "says", "shows", "not_says", "fallback", "script", "buttons", "button_says", "no_buttons", "queue", "replies",
}
#: what no reply may ever show a customer
_BROKEN = [
    (re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}"), "an unfilled placeholder"),
    (re.compile(r"\bNone\b|\bnull\b|\bnan\b"), "a None/null value"),
    (re.compile(r"(?<![0-9.])(?:-\d+|0)\s*分钟"), "a zero or negative number of minutes"),
]


@dataclass
class Reply:
    """One bot message as the customer sees it."""

    text: str
    buttons: List[Dict[str, str]] = field(default_factory=list)
    metadata: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_rest(cls, message: Dict[str, Any]) -> "Reply":
        buttons = [
            {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
            for b in message.get("buttons") or [] if isinstance(b, dict)
        ]
        quick = message.get("quick_replies") or []
        buttons += [{"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
                    for b in quick if isinstance(b, dict)]
        return cls(str(message.get("text") or ""), buttons, dict(message.get("metadata") or {}))


@dataclass
class Turn:
    say: Optional[str] = None
    click: Optional[str] = None
    expect: Dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        return f"说 {self.say!r}" if self.say is not None else f"点 {self.click!r}"


@dataclass
class Scenario:
    name: str
    source: str
    turns: List[Turn]
    covers: List[str] = field(default_factory=list)
    channel: str = "rest"
    #: a signed-in app customer's phone (the app's signed identity), or None: anonymous
    customer: Optional[str] = None

    @property
    def id(self) -> str:
        return f"{self.source}::{self.name}"


def load_scenarios(directory: Path = SCENARIOS) -> List[Scenario]:
    """Every scenario in ``directory``; a malformed one fails loudly at collection."""
    found: List[Scenario] = []
    for path in sorted(directory.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for raw in data.get("scenarios") or []:
            turns = []
            for i, t in enumerate(raw.get("turns") or []):
                if ("say" in t) == ("click" in t):
                    raise ValueError(f"{path.name}: {raw.get('name')}: turn {i + 1} needs say or click")
                expect = t.get("expect") or {}
                unknown = set(expect) - EXPECT_KEYS
                if unknown:
                    raise ValueError(f"{path.name}: {raw.get('name')}: unknown expect keys {sorted(unknown)}")
                say = t.get("say")
                turns.append(Turn(say=None if say is None else str(say), click=t.get("click"), expect=expect))
            if not turns:
                raise ValueError(f"{path.name}: {raw.get('name')}: no turns")
            channel = raw.get("channel", "rest")
            if channel not in ("rest", "socketio", "both"):
                raise ValueError(f"{path.name}: {raw.get('name')}: channel {channel!r}")
            customer = raw.get("customer")
            found.append(Scenario(str(raw["name"]), path.stem, turns, list(raw.get("covers") or []), channel,
                                  None if customer is None else str(customer)))
    names = [s.id for s in found]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"duplicate scenario names: {sorted(duplicates)}")
    return found


@lru_cache(maxsize=1)
def fallback_texts() -> List[str]:
    """The Simplified texts of the "did not understand" responses."""
    texts: List[str] = []
    for path in sorted(DOMAIN.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for name, variants in (data.get("responses") or {}).items():
            if name in FALLBACK_RESPONSES:
                texts += [to_simplified(str(v.get("text", ""))) for v in variants if v.get("text")]
    return texts


def _has_han(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


def script_problem(text: str, script: str) -> Optional[str]:
    """Why ``text`` is not written in ``script`` ('hans' | 'hant'), or None."""
    if not _has_han(text):
        return None
    if script == "hant" and to_traditional(text) != text and to_simplified(text) == text:
        return f"应为繁体, 实为简体: {text!r}"
    if script == "hans" and to_simplified(text) != text:
        return f"应为简体, 实为繁体: {text!r}"
    return None


def check_turn(turn: Turn, replies: Sequence[Reply], queue: Optional[str]) -> List[str]:
    """Every way the replies to ``turn`` differ from what it expects (empty: passed)."""
    problems: List[str] = []
    expect = turn.expect
    if not replies or not any(r.text.strip() or r.buttons for r in replies):
        problems.append("没有任何回复 (silence)")
    if any(not r.text.strip() and not r.buttons for r in replies):
        problems.append("有一条空白回复")
    joined = "\n".join(r.text for r in replies)
    simplified = to_simplified(joined)
    titles = [b["title"] for r in replies for b in r.buttons]
    for pattern, what in _BROKEN:
        for text in [joined, *titles]:
            if pattern.search(text):
                problems.append(f"回复里有{what}: {text!r}")
    for item in expect.get("says") or []:
        options = [to_simplified(o) for o in str(item).split("|")]
        if not any(o in simplified for o in options):
            problems.append(f"回复里没有 {item!r}")
    seen = to_simplified("\n".join([joined, *titles]))
    for item in expect.get("shows") or []:
        # in the text or on a button: a choice the bot narrowed to, or made, is both fine
        if not any(to_simplified(o) in seen for o in str(item).split("|")):
            problems.append(f"回复和按钮里都没有 {item!r}")
    for item in expect.get("not_says") or []:
        for option in str(item).split("|"):
            if to_simplified(option) in simplified:
                problems.append(f"回复里不该有 {option!r}")
    if expect.get("fallback", False) not in ("ok", True):
        for text in fallback_texts():
            if text and text in simplified:
                problems.append("回复是“没听懂”的兜底回复")
                break
    if expect.get("fallback") is True and not any(t in simplified for t in fallback_texts()):
        problems.append("应为兜底回复")
    script = expect.get("script")
    if script:
        for text in [r.text for r in replies] + titles:
            problem = script_problem(text, script)
            if problem:
                problems.append(problem)
    wanted_buttons = expect.get("buttons")
    if isinstance(wanted_buttons, int) and len(titles) < wanted_buttons:
        problems.append(f"应至少有 {wanted_buttons} 个按钮, 实有 {len(titles)}: {titles}")
    for item in expect.get("button_says") or []:
        options = [to_simplified(o) for o in str(item).split("|")]
        if not any(o in to_simplified(t) for t in titles for o in options):
            problems.append(f"按钮里没有 {item!r}: {titles}")
    if expect.get("no_buttons") and titles:
        problems.append(f"不该有按钮: {titles}")
    wanted_replies = expect.get("replies")
    if isinstance(wanted_replies, int) and len([r for r in replies if r.text]) > wanted_replies:
        problems.append(f"回复最多 {wanted_replies} 条, 实有 {len(replies)}")
    if "queue" in expect:
        wanted = str(expect["queue"])
        if wanted == "none" and queue is not None:
            problems.append(f"不该转人工, 队列里却有 {queue}")
        elif wanted != "none" and queue != wanted:
            problems.append(f"队列里应为 {wanted}, 实为 {queue or '无工单'}")
    return problems


def find_button(replies: Sequence[Reply], wanted: str) -> Optional[Dict[str, str]]:
    """The offered button whose title contains ``wanted`` (or the 1-based index)."""
    buttons = [b for r in replies for b in r.buttons]
    if wanted.isdigit() and 1 <= int(wanted) <= len(buttons):
        return buttons[int(wanted) - 1]
    target = to_simplified(wanted)
    for button in buttons:
        if target in to_simplified(button["title"]):
            return button
    return None
