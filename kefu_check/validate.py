"""Stage 1: ``rasa data validate --fail-on-warnings``; warnings become findings."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from kefu_check.findings import Finding, StageResult
from kefu_check.project import Project, load_project
from kefu_check.settings import load_settings

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


def _covered_by_linter(message: str, project: Project, exempt: List[str]) -> bool:
    """Warnings the linter judges with more knowledge than rasa.

    Rasa calls a response unused when only code, a form or a built-in action
    utters it; the linter's ``unused-response`` rule checks those properly.
    Intents sent by the system (EXTERNAL_*, ``exempt_intents``) have no
    training examples and no stories by design.
    """
    names = _QUOTED_NAME.findall(message)
    if "utterance" in message and "not used in any story" in message:
        return True
    for name in names:
        if name.startswith("EXTERNAL_") or name in exempt:
            return True
    return False


def _ignored(message: str, project: Project) -> bool:
    """A warning data/lint.yml's ``ignore`` lists as deliberate ({rule: rasa-validate, name: …})."""
    settings = load_settings(project.root)
    return any(settings.ignored("rasa-validate", name) for name in _QUOTED_NAME.findall(message))


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


def parse_output(output: str, project: Project) -> List[Finding]:
    """Findings from the combined stdout/stderr of ``rasa data validate``."""
    exempt = load_settings(project.root).exempt_intents
    findings: List[Finding] = []
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
        if not message or message in seen or _covered_by_linter(message, project, exempt) or _ignored(message, project):
            continue
        seen.add(message)
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
    if proc.returncode != 0 and not stage.findings:
        tail = "\n".join(_ANSI.sub("", output).strip().splitlines()[-15:])
        stage.error = f"rasa data validate 退出码 {proc.returncode}:\n{tail}"
    return stage
