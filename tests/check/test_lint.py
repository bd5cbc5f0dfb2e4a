"""Every linter rule fires on the broken fixture project, at the right line;
the real repository's data is clean."""
from __future__ import annotations

from pathlib import Path
from typing import List, Set, Tuple

from kefu_check.lint import mask_quotes, run_lint
from kefu_check.sentences import normalise
from kefu_check.project import load_project
from kefu_check.validate import parse_output

ROOT = Path(__file__).resolve().parents[2]
BROKEN = Path(__file__).resolve().parent / "fixtures" / "broken"

EXPECTED: Set[Tuple[str, int, str]] = {
    ("domain/main.yml", 21, "forbidden-phrase"),  # 这个我不知道
    ("domain/main.yml", 25, "ni-not-nin"),  # second line of a literal block
    ("domain/main.yml", 27, "reply-too-long"),
    ("domain/main.yml", 31, "ni-not-nin"),  # a button title
    ("domain/main.yml", 33, "unused-response"),  # utter_unused
    ("domain/main.yml", 5, "untested-intent"),  # check_order
    ("domain/main.yml", 6, "untested-intent"),  # report_safety
    ("data/nlu/nlu.yml", 8, "duplicate-example"),  # "你好 " again
    ("data/nlu/nlu.yml", 13, "contradictory-example"),  # 在嗎 (Traditional) vs greet 在吗
    ("data/nlu/nlu.yml", 17, "eval-leak"),  # 司机喝酒了 is in tests/nlu
    ("data/nlu/nlu.yml", 19, "few-examples"),  # goodbye: 2 < 3
}


def _found(root: Path) -> List[Tuple[str, int, str]]:
    return [(f.path, f.line, f.rule) for f in run_lint(root)]


def test_every_rule_fires_on_the_broken_fixture_with_file_and_line() -> None:
    found = _found(BROKEN)
    assert set(found) == EXPECTED
    assert len(found) == len(EXPECTED), "one finding per problem"


def test_exemptions_hold_on_the_fixture() -> None:
    messages = "\n".join(f.format() for f in run_lint(BROKEN))
    # quoted customer words and 你们 are allowed; used-by-code/form/builtin responses are used
    for name in ("utter_from_code", "utter_dynamic_one", "utter_ask_order_id", "utter_default", "utter_greet"):
        assert f"回复 {name} 没有被" not in messages
    assert "EXTERNAL_handoff_resolved" not in messages
    assert not [f for f in run_lint(BROKEN) if f.line == 22], "quoted words and 你们 on line 22 are allowed"


def test_real_repository_data_is_clean() -> None:
    findings = run_lint(ROOT)
    assert not findings, "\n".join(f.format() for f in findings)


def test_normalise_and_quote_masking() -> None:
    assert normalise("  我的訂單 [EA123456789CN](order_id)   到哪了 ") == normalise("我的订单 EA123456789CN 到哪了")
    assert normalise("ＡＢＣ  在吗") == "abc 在吗"
    masked = mask_quotes("您说“你好”,「你看」")
    assert "你" not in masked and len(masked) == len("您说“你好”,「你看」")


def test_validate_warnings_become_findings_at_the_domain_line() -> None:
    project = load_project(BROKEN)
    output = (
        "\x1b[93m/x/rasa/shared/utils/io.py:100: UserWarning: The intent 'report_safety' is not used in any story or rule.\n"
        "\x1b[0m\x1b[93m/x/io.py:100: UserWarning: The utterance 'utter_unused' is not used in any story or rule.\n"
        "/x/io.py:100: UserWarning: The intent 'EXTERNAL_handoff_resolved' is listed in the domain file, but is not found in the NLU training data.\n"
        "/x/sql.py:1044: MovedIn20Warning: Deprecated API features detected!\n"
        "2026-11-22 18:52:05 ERROR    rasa.validator  - The action 'utter_missing' is used in the stories, but is not a valid utterance action.\n"
    )
    found = [(f.path, f.line, f.rule, f.message) for f in parse_output(output, project)]
    assert [(p, l, r) for p, l, r, _ in found] == [
        ("domain/main.yml", 6, "rasa-validate"),
        ("data", 1, "rasa-validate"),
    ]
    assert "utter_missing" in found[1][3]


def test_rasa_validate_stage_on_the_fixture() -> None:
    from kefu_check.validate import run_validate

    stage = run_validate(BROKEN)
    assert stage.failed
    assert ("domain/main.yml", 6, "rasa-validate") in [(f.path, f.line, f.rule) for f in stage.findings]
