"""Stage 1: ``rasa data validate --fail-on-warnings``; warnings become findings.

Warnings the linter judges better (a response only code utters, a system
intent) are no finding; the stage says how many there were and why
(:data:`COVERED_NOTES`). ``make validate`` is this stage plus the
``unused-response`` rule (``python -m kefu_check validate``).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

from kefu_check.findings import Finding, StageResult
from kefu_check.project import Project, load_project
from kefu_check.settings import LintSettings, load_settings

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_WARNING = re.compile(r"UserWarning: (.+)")
_LOG = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+(ERROR|WARNING)\s+\S+\s+-\s+(.+)$")
_QUOTED_NAME = re.compile(r"'([^']+)'")
_FILE_LINE = re.compile(r"'?([\w./-]+\.ya?ml)'?(?:[:\s]*(?:line\s*)?(\d+))?")


def rasa_env() -> Dict[str, str]:
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("PYTHONWARNINGS", "ignore::DeprecationWarning")
    return env


#: why a rasa warning is no finding, per kind (printed by the stage as a note with its count)
COVERED_NOTES: Dict[str, str] = {
    "code-response": "{n} 条“utterance … is not used in any story or rule”不算问题:rasa 只看故事和规则,"
                     "这些回复由代码(data/lint.yml 的 code_dirs)、表单或内置动作说出;"
                     "真正没人用的回复由 unused-response 规则报出",
    "system-intent": "{n} 条系统发送的意图(EXTERNAL_*、data/lint.yml 的 exempt_intents)没有训练例句:设计如此",
    "ignored": "{n} 条在 data/lint.yml 的 ignore 里列为有意如此",
}


def covered_kind(message: str, exempt: List[str]) -> Optional[str]:
    """The kind of a warning the linter judges with more knowledge than rasa (a key of
    :data:`COVERED_NOTES`), or None for a real one.

    Rasa calls a response unused when only code, a form or a built-in action
    utters it; the linter's ``unused-response`` rule checks those properly.
    Intents sent by the system (EXTERNAL_*, ``exempt_intents``) have no
    training examples and no stories by design.
    """
    if "utterance" in message and "not used in any story" in message:
        return "code-response"
    for name in _QUOTED_NAME.findall(message):
        if name.startswith("EXTERNAL_") or name in exempt:
            return "system-intent"
    return None


def _covered_by_linter(message: str, project: Project, exempt: List[str]) -> bool:
    return covered_kind(message, exempt) is not None


def ignored_by_settings(message: str, settings: LintSettings) -> bool:
    """A warning data/lint.yml's ``ignore`` lists as deliberate ({rule: rasa-validate, name: …})."""
    return any(settings.ignored("rasa-validate", name) for name in _QUOTED_NAME.findall(message))


def _ignored(message: str, project: Project) -> bool:
    return ignored_by_settings(message, load_settings(project.root))


def _locate(message: str, project: Project) -> Tuple[str, int]:
    for name in _QUOTED_NAME.findall(message):
        if name in project.responses:
            path, line = project.responses[name]
            return project.rel(path), line
        if name in project.intents:
            path, line = project.intents[name]
            return project.rel(path), line
    match = _FILE_LINE.search(message)
    if match:
        return match.group(1), int(match.group(2) or 1)
    return ("domain" if "domain" in message else "data"), 1


def _messages(output: str) -> Iterator[str]:
    """Each warning or error message of ``rasa data validate``'s output, once."""
    seen = set()
    for raw in _ANSI.sub("", output).splitlines():
        message: Optional[str] = None
        match = _WARNING.search(raw)
        if match:
            message = match.group(1).strip()
        else:
            log = _LOG.match(raw.strip())
            if log:
                message = log.group(2).strip()
        if message and message not in seen:
            seen.add(message)
            yield message


def covered_counts(output: str, project: Project) -> Counter:
    """How many of rasa's warnings are no finding, per kind of :data:`COVERED_NOTES`."""
    exempt = load_settings(project.root).exempt_intents
    counts: Counter = Counter()
    for message in _messages(output):
        kind = covered_kind(message, exempt) or ("ignored" if _ignored(message, project) else None)
        if kind:
            counts[kind] += 1
    return counts


def parse_output(output: str, project: Project) -> List[Finding]:
    """Findings from the combined stdout/stderr of ``rasa data validate``."""
    exempt = load_settings(project.root).exempt_intents
    findings: List[Finding] = []
    for message in _messages(output):
        if _covered_by_linter(message, project, exempt) or _ignored(message, project):
            continue
        path, line = _locate(message, project)
        findings.append(Finding(
            path, line, "rasa-validate", message,
            "按提示修改对应的意图、回复或故事;看不懂可以把这一行发给工程师",
        ))
    return findings


def run_validate(root: Path, project: Optional[Project] = None) -> StageResult:
    stage = StageResult("rasa data validate")
    project = project or load_project(root)
    domain = "domain" if (root / "domain").is_dir() else "domain.yml"
    command = [
        sys.executable, "-m", "rasa", "data", "validate",
        "--domain", domain, "--data", "data", "--config", "config.yml", "--fail-on-warnings",
    ]
    try:
        proc = subprocess.run(command, cwd=root, env=rasa_env(), capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as exc:
        stage.error = f"rasa data validate 无法运行: {exc}"
        return stage
    output = proc.stdout + "\n" + proc.stderr
    stage.findings = parse_output(output, project)
    counts = covered_counts(output, project)
    stage.notes += [COVERED_NOTES[kind].format(n=n) for kind, n in sorted(counts.items())]
    if proc.returncode != 0 and not stage.findings:
        tail = "\n".join(_ANSI.sub("", output).strip().splitlines()[-15:])
        stage.error = f"rasa data validate 退出码 {proc.returncode}:\n{tail}"
    return stage
