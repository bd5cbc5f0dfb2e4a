"""Every masker an agent view or a log uses hides 100% of tests/security/pii_corpus.yml.

The maskers: ``core.pii.mask_text`` (scripts/transcript, kefu_check), the
bridge's ``handoff.privacy.Masker``, the transcript an agent reads through the
bridge (escalation transcript, live customer messages, ticket summary:
``Message.for_agent`` over a real redis-server), and the bridge's log
formatter. A marked part "disappears" when no run of 5 of its characters
(numbers) or 3 (e-mail, address) is left, spaces and dashes ignored, so
138****5678 and a kept last four digits pass and a half-masked number fails.
The sentence around it must survive, and the negatives come out unchanged.
"""
from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Tuple

import pytest
import yaml

from core.pii import mask_text
from handoff.privacy import Masker, MaskingFormatter
from tests.handoff.conftest import Bridge, bridge  # noqa: F401  (pytest fixture)

CORPUS = Path(__file__).with_name("pii_corpus.yml")
MARK = re.compile(r"⟦(.*?)⟧")
#: ignored when looking for what survived: separators people type inside numbers
IGNORED = re.compile(r"[\s\-.()+·\u200b-\u200f\ufeff]")
CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Case:
    kind: str
    line: str

    @property
    def text(self) -> str:
        return MARK.sub(r"\1", self.line)

    @property
    def secrets(self) -> List[str]:
        return MARK.findall(self.line)

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.text}"


def load_corpus() -> Tuple[List[Case], List[str]]:
    data: Dict[str, List[str]] = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    negatives = list(data.pop("negatives"))
    cases = [Case(kind, line) for kind, lines in data.items() for line in lines]
    return cases, negatives


CASES, NEGATIVES = load_corpus()


def _norm(text: str) -> str:
    return IGNORED.sub("", unicodedata.normalize("NFKC", text)).lower()


def leaks(case: Case, masked: str) -> List[str]:
    """What of ``case`` an agent could still read in ``masked`` (empty: masked)."""
    found: List[str] = []
    seen = _norm(masked)
    for secret in case.secrets:
        plain = _norm(secret)
        size = 5 if re.fullmatch(r"[0-9x]+", plain) else 3
        runs = [plain[i:i + size] for i in range(max(len(plain) - size + 1, 1))]
        found.extend(f"{secret!r} shows {run!r}" for run in runs if run in seen)
    context = iter(masked)
    if not all(char in context for char in CJK.findall(MARK.sub("", case.line))):
        found.append("the sentence around it was masked too")
    return found


def test_the_corpus_covers_every_form() -> None:
    kinds = {case.kind for case in CASES}
    assert {"phone", "id_card", "bank_card", "email", "address"} <= kinds
    assert len(CASES) >= 60 and all(case.secrets for case in CASES), "every line marks what must disappear"
    assert len(NEGATIVES) >= 5
    text = "\n".join(case.line for case in CASES)
    for form in ("+86", "0086", "１３８", "-", "X", "x", "小区", "栋", "单元", "室", "@", "＠"):
        assert form in text, f"the corpus has no {form!r}"


def _log_formatter(text: str) -> str:
    """What the bridge's log handler writes for a record carrying ``text``."""
    record = logging.LogRecord("handoff", logging.WARNING, __file__, 1, "客户消息: %s", (text,), None)
    return MaskingFormatter("%(message)s").format(record).removeprefix("客户消息: ")


_masker = Masker()
MASKERS: Dict[str, Callable[[str], str]] = {
    "core.pii.mask_text": mask_text,
    "handoff.privacy.Masker": _masker.mask,
    "bridge log formatter": _log_formatter,
}


@pytest.mark.parametrize("masker", list(MASKERS))
def test_every_personal_value_is_masked(masker: str) -> None:
    mask = MASKERS[masker]
    failures = {case.name: leaks(case, mask(case.text)) for case in CASES}
    failed = {name: why for name, why in failures.items() if why}
    assert not failed, f"{masker} masked {len(CASES) - len(failed)}/{len(CASES)}: {failed}"


@pytest.mark.parametrize("masker", list(MASKERS))
def test_look_alikes_are_not_masked(masker: str) -> None:
    mask = MASKERS[masker]
    changed = {line: mask(line) for line in NEGATIVES if mask(line) != line}
    assert not changed, f"{masker} changed: {changed}"


def test_phone_format_is_the_service_guides() -> None:
    assert mask_text("电话+86 138 1234 5678") == "电话138****5678"
    assert mask_text("电话１３８１２３４５６７８") == "电话138****5678"
    assert mask_text("身份证11010519491231002X") == "身份证**************002X"


def _transcript_texts(live: Bridge, sender: str) -> Iterator[str]:
    """The summary, then every customer line, as the agent holding the ticket reads them."""
    tid = live.client.get(f"/internal/conversations/{sender}", headers=live.internal).json()["ticket_id"]
    claimed = live.client.post(f"/api/tickets/{tid}/claim", headers=live.agent("gen1"))
    assert claimed.status_code == 200, claimed.text
    view = live.client.get(f"/api/tickets/{tid}", headers=live.agent("gen1")).json()
    yield view["summary"]
    for message in view["transcript"]:
        if message["role"] == "user":
            yield message["text"]


def test_the_agents_transcript_view_is_masked(bridge: Bridge) -> None:  # noqa: F811  (fixture)
    """Escalation transcript, ticket summary and live messages, as GET /api/tickets/{id} shows them."""
    lines = [case.text for case in CASES] + NEGATIVES
    body = {"summary": CASES[0].text, "transcript": [{"role": "user", "text": t, "ts": 1} for t in lines]}
    bridge.escalate("sec-view", **body)
    for text in lines:  # and again as live messages while the customer waits
        resp = bridge.client.post("/internal/customer-message", json={"sender": "sec-view", "text": text},
                                  headers=bridge.internal)
        assert resp.status_code == 200, resp.text
    shown = list(_transcript_texts(bridge, "sec-view"))
    summary, history, live = shown[0], shown[1:len(lines) + 1], shown[len(lines) + 1:]
    assert len(history) == len(live) == len(lines)
    failed = {"summary": leaks(CASES[0], summary)} if leaks(CASES[0], summary) else {}
    for view, texts in (("escalation", history), ("live", live)):
        for case, masked in zip(CASES, texts):
            if leaks(case, masked):
                failed[f"{view} {case.name}"] = leaks(case, masked)
        for line, masked in zip(NEGATIVES, texts[len(CASES):]):
            if masked != line:
                failed[f"{view} negative {line}"] = [masked]
    assert not failed, f"the agent's view leaks: {failed}"
