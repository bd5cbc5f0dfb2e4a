"""Findings: one problem at one place, printed as ``path:line: [rule] message — 建议: …``."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional

# Rule ids and what they mean, in the editors' language (printed by --rules).
RULES: Dict[str, str] = {
    "yaml-error": "YAML 格式错误,文件无法读取",
    "rasa-validate": "rasa data validate 的警告或错误",
    "forbidden-phrase": "回复里出现服务忌语(data/forbidden_phrases.yml)",
    "ni-not-nin": "回复里用“你”称呼客户,应当用“您”",
    "reply-too-long": "回复太长(上限见 data/lint.yml 的 max_reply_chars)",
    "unused-response": "回复没有被任何故事、规则或动作使用",
    "few-examples": "意图的训练例句太少(下限见 data/lint.yml 的 min_examples)",
    "untested-intent": "意图没有出现在任何测试对话(tests/test_stories/)里",
    "duplicate-example": "同一意图下的重复例句",
    "contradictory-example": "同一句话出现在两个不同的意图下",
    "eval-leak": "训练例句和评估集(tests/nlu/)里的句子相同",
    "agent-script-missing": "回复既不在坐席话术(data/agent_scripts.yml 的 scripts)里,也不在 not_for_agents 里",
    "agent-script-unknown": "坐席话术文件里写的回复名在 domain 里不存在",
    "agent-script-title": "坐席话术没有标题,或两条话术标题相同",
    "agent-script-category": "坐席话术的分类不存在,或分类没有标题",
    "agent-script-variable": "坐席话术用到的 {变量} 在 variables 里没有说明",
    "agent-script-format": "坐席话术文件的格式不对(例如 synonyms 不是列表)",
    "near-copy": "训练例句和评估句子(tests/nlu/ 或外部评估集)只差几个字",
    "accuracy-drop": "整体准确率(macro-F1)比上次接受的结果下降超过 1 个百分点",
    "safety-recall": "安全类消息(report_safety)没有全部识别出来",
    "no-baseline": "还没有接受过的评估结果(tests/nlu/baseline.json)",
    "intent-worse": "某个意图的 F1 比上次接受的结果低(提示)",
    "label-changed": "评估句子的识别结果和上次接受的结果不同(提示)",
}


@dataclass(frozen=True)
class Finding:
    """One problem: where it is, which rule, what is wrong and what to do."""

    path: str
    line: int
    rule: str
    message: str
    suggestion: str
    # Informational findings are printed but never fail the check.
    blocking: bool = True

    def format(self) -> str:
        return f"{self.path}:{self.line}: [{self.rule}] {self.message} — 建议: {self.suggestion}"


@dataclass
class StageResult:
    """The outcome of one stage of `make check`."""

    name: str
    findings: List[Finding] = field(default_factory=list)
    skipped: Optional[str] = None
    # A stage can fail without a finding (e.g. a crashed subprocess).
    error: Optional[str] = None
    notes: List[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.skipped is None and (self.error is not None or any(f.blocking for f in self.findings))

    def status(self) -> str:
        if self.skipped is not None:
            return "跳过"
        return "失败" if self.failed else "通过"


def count_by_rule(findings: Iterable[Finding]) -> Counter:
    return Counter(f.rule for f in findings)


def sort_findings(findings: Iterable[Finding]) -> List[Finding]:
    return sorted(findings, key=lambda f: (f.path, f.line, f.rule, f.message))


def relative(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` when inside it, for clickable output."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()
