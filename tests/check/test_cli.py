"""The CLI on a copy of the real data: a forbidden phrase fails with file:line."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Tuple

from yaml.nodes import ScalarNode

from kefu_check.project import domain_files
from kefu_check.yamlpos import compose, get, line_of, pairs, seq

ROOT = Path(__file__).resolve().parents[2]


def _first_quoted_reply(root: Path) -> Tuple[Path, int]:
    for path in domain_files(root):
        for _, _, variants in pairs(get(compose(path), "responses")):
            for variant in seq(variants):
                text = get(variant, "text")
                if isinstance(text, ScalarNode) and text.style == '"':
                    return path, line_of(text)
    raise AssertionError("no double-quoted reply in domain/")


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kefu_check", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_forbidden_phrase_in_a_copied_domain_fails_with_file_and_line(tmp_path: Path) -> None:
    for name in ("domain", "data", "actions"):
        if (ROOT / name).exists():
            shutil.copytree(ROOT / name, tmp_path / name)
    path, line = _first_quoted_reply(tmp_path)
    lines = path.read_text(encoding="utf-8").split("\n")
    assert 'text: "' in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace('text: "', 'text: "这个我不知道,', 1)
    path.write_text("\n".join(lines), encoding="utf-8")

    result = _run("lint", "--root", str(tmp_path))
    assert result.returncode != 0
    rel = path.relative_to(tmp_path).as_posix()
    assert f"{rel}:{line}: [forbidden-phrase]" in result.stdout
    assert "不知道" in result.stdout and "建议:" in result.stdout
    assert result.stdout.startswith("== make check 汇总 ==")


def test_skip_eval_prints_summary_first_and_fails_on_the_fixture() -> None:
    result = _run("--root", "tests/check/fixtures/broken", "--skip-eval", "--skip-validate")
    assert result.returncode == 1
    head = result.stdout.split("\n\n")[0]
    assert "forbidden-phrase 1" in head and "跳过" in head and "失败" in head
    assert "domain/main.yml:21: [forbidden-phrase]" in result.stdout


def test_external_eval_without_a_set_exits_zero(tmp_path: Path) -> None:
    result = _run("eval", "--external", "--no-train", "--root", str(tmp_path))
    assert result.returncode == 0
    assert "没有外部评估集" in result.stdout


def test_validate_shows_only_real_warnings_and_the_responses_nothing_uses() -> None:
    """`make validate`: rasa's "utterance not used" for responses code utters is a counted note,
    a response nothing uses and a real rasa warning are findings that fail it."""
    result = _run("validate", "--root", "tests/check/fixtures/broken")
    assert result.returncode != 0
    assert result.stdout.startswith("== make validate 汇总 ==")
    assert "domain/main.yml:6: [rasa-validate] The intent 'report_safety' is not used" in result.stdout
    assert "[unused-response] 回复 utter_unused " in result.stdout
    assert "is not used in any story or rule”不算问题" in result.stdout
    assert "The utterance 'utter_" not in result.stdout  # no raw rasa warning for a response code utters
