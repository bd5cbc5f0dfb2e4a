"""Lint of ``data/agent_scripts.yml``, the agent console's script titles,
categories, synonyms and variable labels (loaded by ``handoff.scripts``).

The rules themselves live with the loader (``handoff.scripts.build_library``),
so the console and ``make check`` can never disagree; this module only puts
each problem at its line: the entry in the data file, or the domain response
that is in neither list.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Tuple

import yaml

from core.responses import load_responses
from handoff.scripts import build_library
from kefu_check.findings import Finding, relative
from kefu_check.yamlpos import YamlError, compose, line_of, pairs, seq

DATA_FILE = Path("data") / "agent_scripts.yml"


def _entry_lines(path: Path) -> Dict[Tuple[str, str], int]:
    """(section, entry) -> line, and (section, "") -> the section's line."""
    node = compose(path)
    lines: Dict[Tuple[str, str], int] = {}
    for section, key_node, value in pairs(node):
        lines[(section, "")] = line_of(key_node)
        for name, entry_key, _ in pairs(value):
            lines[(section, name)] = line_of(entry_key)
        for item in seq(value):
            lines[(section, str(getattr(item, "value", "")))] = line_of(item)
    return lines


def check_agent_scripts(root: Path, responses_at: Dict[str, Tuple[Path, int]]) -> List[Finding]:
    """Findings for the data file of the project at ``root`` (none when it has no such file)."""
    path = root / DATA_FILE
    if not path.exists():
        return []
    rel = relative(path, root)
    try:
        lines = _entry_lines(path)
    except YamlError as exc:
        return [Finding(rel, exc.line, "yaml-error", f"无法读取: {exc.message}", "检查缩进和引号,保存后重新运行 make check")]
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        return [Finding(rel, 1, "agent-script-format", "文件应为 categories / variables / scripts / not_for_agents 的映射",
                        "参照文件开头的说明")]
    load_responses.cache_clear()  # the domain may have been edited since the last read
    library = build_library(data, load_responses(root / "domain"))
    findings: List[Finding] = []
    for problem in library.problems:
        section, name = problem.where
        if section == "response" and name in responses_at:
            where_path, line = responses_at[name]
            findings.append(Finding(relative(where_path, root), line, problem.rule, problem.message, problem.suggestion))
            continue
        line = lines.get((section, name)) or lines.get((section, "")) or 1
        findings.append(Finding(rel, line, problem.rule, problem.message, problem.suggestion))
    return findings
