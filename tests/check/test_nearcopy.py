"""Rule near-copy: a training line a few characters away from an evaluation
line (tests/nlu/ or the external set) fails `make check`, in either direction,
and the external set's text is never printed."""
from __future__ import annotations

from pathlib import Path

from kefu_check.lint import run_lint
from kefu_check.nearcopy import fold, is_near

NLU = """version: "3.1"
nlu:
- intent: {intent}
  examples: |
{lines}"""


def _write(path: Path, intent: str, lines: list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(NLU.format(intent=intent, lines="".join(f"    - {l}\n" for l in lines)), encoding="utf-8")


def _project(tmp_path: Path, train: list, held_out: list, external: list) -> Path:
    root = tmp_path / "repo"
    _write(root / "data" / "nlu" / "train.yml", "report_delay", train)
    _write(root / "tests" / "nlu" / "eval.yml", "report_delay", held_out)
    _write(tmp_path / "shared" / "external-eval" / "real.yml", "report_delay", external)
    return root


def _near(root: Path) -> list:
    return [f for f in run_lint(root) if f.rule == "near-copy"]


def test_fold_ignores_script_width_punctuation_and_case() -> None:
    assert fold("外賣到哪了??") == fold("外卖到哪了") == "外卖到哪了"
    assert fold("ＯＫ 好的!") == "ok好的"


def test_near_means_a_small_edit_distance() -> None:
    assert is_near(fold("骑手怎么还没到啊"), fold("骑手怎么还没到呀"))  # one particle
    assert is_near(fold("外卖送了一个多小时"), fold("外卖送了快两个多小时"))  # two characters
    assert is_near(fold("在吗"), fold("在吗?"))  # the same line
    assert not is_near(fold("好的"), fold("好滴"))  # two-character words are only equal or not
    assert not is_near(fold("耳机一直没收到"), fold("瑜伽垫怎么还不发货"))


def test_a_training_line_near_a_held_out_line_fails(tmp_path: Path) -> None:
    root = _project(tmp_path, ["等了四十分钟外卖还没送来", "司机迟到了"], ["等了五十分钟外卖还没送来"], [])
    found = _near(root)
    assert [(f.path, f.line) for f in found] == [("data/nlu/train.yml", 5)]
    assert "tests/nlu/eval.yml:5" in found[0].message


def test_a_training_line_near_an_external_line_fails_without_quoting_it(tmp_path: Path) -> None:
    root = _project(tmp_path, ["快递三天了一动不动", "超时了"], [], ["快递三天了都一动不动"])
    found = _near(root)
    assert [(f.path, f.line) for f in found] == [("data/nlu/train.yml", 5)]
    assert "都一动不动" not in found[0].message and "外部评估集 real.yml #1" in found[0].message


def test_distinct_lines_pass(tmp_path: Path) -> None:
    root = _project(tmp_path, ["物流一周没更新", "司机迟到二十分钟"], ["骑手说马上到结果又等了半天"], ["包裹怎么还在转运中心"])
    assert _near(root) == []
