"""Rule ``near-copy``: a training example too close to an evaluation line.

``eval-leak`` catches the same sentence; this catches the sentence with a
word swapped, a particle added or the script changed, in both directions:
a training line near a held-out line of ``tests/nlu/`` (or of the line
lists in ``tests/nlu_checks/data/``) or near a line of
the external evaluation set (``../shared/external-eval``, evaluation only:
its lines are never printed here, only their file and position, so the
check itself cannot spread them).

Two lines are compared after :func:`fold`: NFKC width folding,
Traditional→Simplified, case folding, and only letters, digits and
emoji kept (punctuation and spaces say nothing about copying). They are
near when, with ``d`` their Levenshtein distance and ``n`` the shorter
length:

- they are equal, or
- ``1 - d / longer >= 0.8`` (four characters in five are the same), or
- ``n >= 5`` and ``d <= 2``, or ``n >= 8`` and ``d <= 3`` (one or two words
  changed in a short sentence).

Two-character lines (好的, 再见) are only near when equal: the words people
use to say yes are not a copy of anybody.
"""
from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import yaml

from kefu_check.findings import Finding
from kefu_check.sentences import normalise
from kefu_check.project import Example, Project

MIN_RATIO = 0.8
#: (shortest length, largest distance) pairs that are near whatever the ratio
SHORT_RULES: Tuple[Tuple[int, int], ...] = ((8, 3),)
RULE = "near-copy"


@dataclass(frozen=True)
class EvalLine:
    """One evaluation sentence, folded; ``where`` never contains its text."""

    folded: str
    where: str
    text: Optional[str]  # shown only for our own test set (tests/nlu)
    #: normalise() of a tests/nlu line: the same sentence is eval-leak's finding, not ours
    same_as: Optional[str] = None


def fold(text: str) -> str:
    """The comparable form: :func:`kefu_check.sentences.normalise`, letters, digits and emoji only."""
    plain = normalise(text)
    return "".join(c for c in plain if not c.isascii() or not c.isdigit()
                   if unicodedata.category(c)[0] in "LN" or unicodedata.category(c) == "So")


def allowed_distance(a: int, b: int) -> int:
    """The largest edit distance at which lines of lengths ``a`` and ``b`` are near."""
    longer, shorter = max(a, b), min(a, b)
    limit = int(longer * (1 - MIN_RATIO) + 1e-9)
    for min_len, distance in SHORT_RULES:
        if shorter >= min_len:
            limit = max(limit, distance)
            break
    return limit


def within(a: str, b: str, limit: int) -> bool:
    """Levenshtein distance of ``a`` and ``b`` is at most ``limit`` (banded, early exit)."""
    if abs(len(a) - len(b)) > limit:
        return False
    if limit == 0:
        return a == b
    if len(a) > len(b):
        a, b = b, a
    big = limit + 1
    previous = [j if j <= limit else big for j in range(len(b) + 1)]
    for i in range(1, len(a) + 1):
        low, high = max(1, i - limit), min(len(b), i + limit)
        current = [big] * (len(b) + 1)
        current[0] = i if i <= limit else big
        best = current[0]
        for j in range(low, high + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            value = min(previous[j - 1] + cost, previous[j] + 1, current[j - 1] + 1)
            current[j] = value if value <= limit else big
            best = min(best, current[j])
        if best > limit:
            return False
        previous = current
    return previous[len(b)] <= limit


def is_near(a: str, b: str) -> bool:
    """Whether two folded lines are near copies of each other."""
    if not a or not b:
        return False
    return a == b or within(a, b, allowed_distance(len(a), len(b)))


def _external_texts(source: Path) -> Iterator[Tuple[str, str]]:
    """(text, "file #n") for every line of the external set (YAML, JSON, JSONL)."""
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        suffix = path.suffix.lower()
        texts: List[str] = []
        if suffix in (".yml", ".yaml"):
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            for block in (doc.get("nlu") or []) if isinstance(doc, dict) else []:
                if isinstance(block, dict) and "intent" in block:
                    texts += [line.strip()[2:] for line in str(block.get("examples", "")).splitlines()
                              if line.strip().startswith("- ")]
        elif suffix == ".jsonl":
            for line in path.read_text(encoding="utf-8").splitlines():
                row = json.loads(line) if line.strip() else {}
                if isinstance(row, dict) and row.get("text"):
                    texts.append(str(row["text"]))
        for number, text in enumerate(texts, 1):
            yield text, f"{path.name} #{number}"


#: other held-out line lists (YAML, any nesting of lists of strings), e.g. the safety net's cases
EXTRA_EVAL_DIR = Path("tests") / "nlu_checks" / "data"


def _strings(node: object) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def evaluation_lines(project: Project, external: Optional[Path]) -> List[EvalLine]:
    lines = [EvalLine(fold(e.text), f"{project.rel(e.path)}:{e.line}", e.text, normalise(e.text))
             for e in project.eval_examples]
    for path in sorted((project.root / EXTRA_EVAL_DIR).glob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        lines += [EvalLine(fold(text), project.rel(path), text) for text in _strings(doc)]
    if external is not None and external.is_dir():
        lines += [EvalLine(fold(text), f"外部评估集 {where}", None) for text, where in _external_texts(external)]
    return [line for line in lines if line.folded]


def near_pairs(train: Sequence[Example], evaluation: Sequence[EvalLine]) -> Iterator[Tuple[Example, EvalLine]]:
    """Every (training example, evaluation line) pair that is near, exact copies included."""
    by_length: Dict[int, List[EvalLine]] = {}
    for line in evaluation:
        by_length.setdefault(len(line.folded), []).append(line)
    for example in train:
        folded = fold(example.text)
        if not folded:
            continue
        size = len(folded)
        # a line more than 4 characters or 20 % longer cannot be near
        span = max(4, int(size * 0.25) + 1)
        for length in range(max(1, size - span), size + span + 1):
            for line in by_length.get(length, ()):
                if is_near(folded, line.folded):
                    yield example, line


def check_near_copies(project: Project, external: Optional[Path]) -> List[Finding]:
    findings: List[Finding] = []
    for example, line in near_pairs(project.examples, evaluation_lines(project, external)):
        if line.same_as is not None and line.same_as == normalise(example.text):
            continue  # reported as eval-leak
        shown = f"“{line.text}”" if line.text is not None else "的一句"
        findings.append(Finding(
            project.rel(example.path), example.line, RULE,
            f"训练例句“{example.text}”和{line.where}{shown}几乎一样(编辑距离很小)",
            "换一种完全不同的说法,或删掉这条:评估句子和它的近似改写都不能用来训练",
        ))
    return findings


def external_dir(root: Path) -> Path:
    """``../shared/external-eval`` next to the repository (may not exist)."""
    return (root / ".." / "shared" / "external-eval").resolve()


def iter_findings(project: Project) -> Iterable[Finding]:
    return check_near_copies(project, external_dir(project.root))
