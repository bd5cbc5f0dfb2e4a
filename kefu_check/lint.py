"""The script linter: replies and training data, every finding with a line.

Rules (ids as printed in ``[...]``):

- ``forbidden-phrase``: a phrase from ``data/forbidden_phrases.yml`` in a
  reply text or button title (also as part of a longer word).
- ``ni-not-nin``: 你/妳 addressing the customer. Allowed: text quoted as the
  customer's own words (“…”, 「…」, 『…』, ‘…’, "…") and the words in
  ``allowed_ni_words`` (default 你们: 您们 is not standard Chinese).
  Quoted customer words are exempt from ``forbidden-phrase`` as well.
- ``reply-too-long``: more than ``max_reply_chars`` characters (whitespace
  not counted).
- ``unused-response``: no story, rule, form, code or built-in action uses it.
- ``few-examples`` / ``untested-intent``: per domain intent.
- ``duplicate-example`` / ``contradictory-example`` / ``eval-leak``: on the
  normalised example text (see :func:`normalise`).
- ``agent-script-*``: the console's script titles, categories, synonyms and
  variable labels in ``data/agent_scripts.yml`` (``kefu_check.agent_scripts``).
- ``near-copy``: a training example within a small edit distance of a line
  of tests/nlu/ or of the external evaluation set (``kefu_check.nearcopy``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import yaml

from kefu_check.nearcopy import iter_findings
from kefu_check.sentences import normalise
from kefu_check.agent_scripts import check_agent_scripts
from kefu_check.findings import Finding
from kefu_check.project import Example, Project, ResponseText, load_project
from kefu_check.settings import LintSettings, load_settings

_QUOTED = re.compile(r"“[^”]*”|「[^」]*」|『[^』]*』|‘[^’]*’|\"[^\"]*\"")
_SPACES = re.compile(r"\s+")
_NI = re.compile("[你妳]")


@dataclass(frozen=True)
class Forbidden:
    phrase: str
    suggestion: str


def load_forbidden(root: Path) -> List[Forbidden]:
    """Forbidden phrases from ``data/forbidden_phrases.yml`` (longest first)."""
    path = root / "data" / "forbidden_phrases.yml"
    if not path.exists():
        return []
    raw: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    items = raw.get("forbidden", []) if isinstance(raw, dict) else raw
    phrases: List[Forbidden] = []
    for item in items or []:
        if isinstance(item, dict) and item.get("phrase"):
            phrases.append(Forbidden(str(item["phrase"]), str(item.get("suggestion") or "换一种积极的说法")))
        elif isinstance(item, str) and item:
            phrases.append(Forbidden(item, "换一种积极的说法"))
    return sorted(phrases, key=lambda f: -len(f.phrase))


def mask_quotes(text: str) -> str:
    """``text`` with quoted customer words blanked, positions unchanged."""
    return _QUOTED.sub(lambda m: m.group(0)[0] + "\0" * (len(m.group(0)) - 2) + m.group(0)[-1], text)


def _snippet(text: str, start: int, end: int, width: int = 8) -> str:
    left = max(0, start - width)
    right = min(len(text), end + width)
    return ("…" if left else "") + text[left:right].replace("\n", " ") + ("…" if right < len(text) else "")


def _where(item: ResponseText) -> str:
    return f"回复 {item.response}" + (" 的按钮" if item.kind == "button" else "")


def check_texts(project: Project, settings: LintSettings, forbidden: List[Forbidden]) -> List[Finding]:
    findings: List[Finding] = []
    for item in project.texts:
        path = project.rel(item.path)
        masked = mask_quotes(item.text)
        covered: List[Tuple[int, int]] = []
        if not settings.ignored("forbidden-phrase", item.response, path):
            for rule in forbidden:
                for match in re.finditer(re.escape(rule.phrase), masked):
                    if any(s <= match.start() < e for s, e in covered):
                        continue  # part of a longer phrase already reported
                    covered.append((match.start(), match.end()))
                    findings.append(Finding(
                        path, item.line_at(match.start()), "forbidden-phrase",
                        f"{_where(item)} 含服务忌语“{rule.phrase}”: {_snippet(item.text, match.start(), match.end())}",
                        rule.suggestion,
                    ))
        if not settings.ignored("ni-not-nin", item.response, path):
            reported_lines = set()
            for match in _NI.finditer(masked):
                pos = match.start()
                if any(s <= pos < e for s, e in covered) or _allowed_ni(masked, pos, settings.allowed_ni_words):
                    continue
                line = item.line_at(pos)
                if line in reported_lines:
                    continue
                reported_lines.add(line)
                findings.append(Finding(
                    path, line, "ni-not-nin",
                    f"{_where(item)} 用“{match.group(0)}”称呼客户: {_snippet(item.text, pos, pos + 1)}",
                    "把“你”改成“您”(引号里客户自己的原话和“你们”不算)",
                ))
        length = len(_SPACES.sub("", item.text))
        if item.kind == "text" and length > settings.max_reply_chars \
                and not settings.ignored("reply-too-long", item.response, path):
            findings.append(Finding(
                path, item.line_at(0), "reply-too-long",
                f"回复 {item.response} 有 {length} 个字,超过上限 {settings.max_reply_chars}",
                f"删去不必要的话,或拆成两条回复,每条不超过 {settings.max_reply_chars} 个字",
            ))
    return findings


def _allowed_ni(text: str, pos: int, words: List[str]) -> bool:
    for word in words:
        for index, char in enumerate(word):
            if char in "你妳" and text[pos - index: pos - index + len(word)] == word:
                return True
    return False


def _response_used(project: Project, settings: LintSettings, name: str) -> bool:
    base = name.split("/")[0]  # retrieval responses utter_faq/ask_x are used via utter_faq
    used = project.story_actions | project.code_responses | set(settings.builtin_responses)
    if name in used or base in used:
        return True
    if any(name.startswith(prefix) for prefix in project.code_prefixes):
        return True
    asked = {f"utter_ask_{slot}" for slot in project.slots}
    for form, required in project.forms.items():
        asked.update(f"utter_ask_{slot}" for slot in required)
        asked.update(f"utter_ask_{form}_{slot}" for slot in required)
    return name in asked


def check_unused(project: Project, settings: LintSettings) -> List[Finding]:
    findings: List[Finding] = []
    for name, (path, line) in sorted(project.responses.items()):
        if _response_used(project, settings, name) or settings.ignored("unused-response", name, project.rel(path)):
            continue
        findings.append(Finding(
            project.rel(path), line, "unused-response",
            f"回复 {name} 没有被任何故事、规则、表单或动作使用",
            "在 data/ 的故事或规则里用上它(- action: " + name + "),或者删除这条回复",
        ))
    return findings


def _exempt(name: str, settings: LintSettings) -> bool:
    return name.startswith("EXTERNAL_") or name in settings.exempt_intents


def check_intents(project: Project, settings: LintSettings) -> List[Finding]:
    counts: Dict[str, int] = {}
    for example in project.examples:
        base = example.intent.split("/")[0]
        counts[base] = counts.get(base, 0) + 1
    findings: List[Finding] = []
    for name, (path, line) in project.intents.items():
        if _exempt(name, settings):
            continue
        count = counts.get(name, 0)
        if count < settings.min_examples and not settings.ignored("few-examples", name):
            where_path, where_line = project.intent_blocks.get(name, (path, line))
            findings.append(Finding(
                project.rel(where_path), where_line, "few-examples",
                f"意图 {name} 只有 {count} 条训练例句,至少需要 {settings.min_examples} 条",
                f"在 data/nlu/ 里再补充 {settings.min_examples - count} 条以上不同说法的例句(口语、错别字、繁体都可以)",
            ))
        if name not in project.test_intents and not settings.ignored("untested-intent", name):
            findings.append(Finding(
                project.rel(path), line, "untested-intent",
                f"意图 {name} 没有出现在任何测试对话(tests/test_stories/)里",
                f"在 tests/test_stories/ 里加一段客户说出 {name} 类问题的测试对话",
            ))
    return findings


def check_examples(project: Project, settings: LintSettings) -> List[Finding]:
    findings: List[Finding] = []
    seen: Dict[str, Example] = {}
    reported_pairs = set()
    for example in sorted(project.examples, key=lambda e: (str(e.path), e.line)):
        key = normalise(example.text)
        first = seen.get(key)
        if first is None:
            seen[key] = example
            continue
        where = f"{project.rel(first.path)}:{first.line}"
        if first.intent == example.intent:
            if not settings.ignored("duplicate-example", example.intent):
                findings.append(Finding(
                    project.rel(example.path), example.line, "duplicate-example",
                    f"例句“{example.text}”在意图 {example.intent} 里重复(第一次出现在 {where})",
                    "删除这一条重复的例句",
                ))
        elif (key, example.intent) not in reported_pairs:
            reported_pairs.add((key, example.intent))
            findings.append(Finding(
                project.rel(example.path), example.line, "contradictory-example",
                f"例句“{example.text}”属于意图 {example.intent},但同样的话也在意图 {first.intent} 下({where})",
                "想清楚这句话该归哪个意图,只在那个意图下保留一次",
            ))
    evaluation: Dict[str, Example] = {}
    for example in project.eval_examples:
        evaluation.setdefault(normalise(example.text), example)
    for example in project.examples:
        other = evaluation.get(normalise(example.text))
        if other is not None:
            findings.append(Finding(
                project.rel(example.path), example.line, "eval-leak",
                f"训练例句“{example.text}”和评估集 {project.rel(other.path)}:{other.line} 的句子相同",
                "从 data/ 删掉这条或换一个不同的说法:评估集的句子不能用来训练",
            ))
    return findings


def run_lint(root: Path, project: Optional[Project] = None) -> List[Finding]:
    """All linter findings for the project at ``root``."""
    settings = load_settings(root)
    project = project or load_project(root)
    forbidden = load_forbidden(root)
    findings: List[Finding] = list(project.errors)
    findings += check_texts(project, settings, forbidden)
    findings += check_unused(project, settings)
    findings += check_intents(project, settings)
    findings += check_examples(project, settings)
    findings += check_agent_scripts(root, project.responses)

    findings += list(iter_findings(project))
    return findings
