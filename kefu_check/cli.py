"""Command line: ``python -m kefu_check [check|lint|eval|accept] [--root .]``.

- ``check`` (default, ``make check``): rasa data validate, the script linter
  and the accuracy gate; ``--skip-eval`` for a fast run without the model.
- ``lint``: the script linter only (no rasa, a few seconds).
- ``validate`` (``make validate``): rasa data validate with only its real
  warnings as findings, plus the ``unused-response`` rule that replaces rasa's
  "utterance not used" warnings for responses code utters; fails on a finding.
- ``eval`` (``make eval``): evaluation on tests/nlu, writes results/;
  ``--external`` (``make eval-external``) evaluates on ../shared/external-eval.
- ``accept`` (``make accept``): store the current results as accepted, in
  tests/nlu/baseline.json, when a change in accuracy is intended.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import List, Optional

from kefu_check import evaluation
from kefu_check.findings import RULES, StageResult, count_by_rule, sort_findings
from kefu_check.lint import run_lint
from kefu_check.project import load_project
from kefu_check.validate import run_validate


def _print_report(stages: List[StageResult], title: str = "make check") -> int:
    failed = any(stage.failed for stage in stages)
    print(f"== {title} 汇总 ==")
    for stage in stages:
        counts = count_by_rule(stage.findings)
        detail = ", ".join(f"{rule} {n}" for rule, n in sorted(counts.items()))
        reason = f"({stage.skipped})" if stage.skipped else ""
        print(f"  [{stage.status()}] {stage.name}{reason}: {len(stage.findings)} 条" + (f"  ({detail})" if detail else ""))
        for note in stage.notes:
            print(f"      {note}")
    print("结果: " + ("失败 ✗" if failed else "通过 ✓"))
    for stage in stages:
        if stage.error:
            print(f"\n[{stage.name}] {stage.error}")
    findings = [f for stage in stages for f in stage.findings]
    if findings:
        print()
    for finding in sort_findings(f for f in findings if f.blocking):
        print(finding.format())
    informational = [f for f in findings if not f.blocking]
    if informational:
        print("\n-- 提示(不影响结果)--")
        for finding in informational:
            print(finding.format())
    return 1 if failed else 0


def run_check(root: Path, skip_eval: bool, skip_validate: bool, train: bool) -> int:
    project = load_project(root)
    stages: List[StageResult] = []
    if skip_validate:
        stages.append(StageResult("rasa data validate", skipped="--skip-validate"))
    else:
        stages.append(run_validate(root, project))
    stages.append(StageResult("话术检查", findings=run_lint(root, project)))
    if skip_eval:
        stages.append(StageResult("准确率(rasa test nlu)", skipped="--skip-eval"))
    else:
        stages.append(evaluation.eval_stage(root, train=train))
    return _print_report(stages)


def run_validate_only(root: Path) -> int:
    """``make validate``: rasa's real warnings, and the responses nothing uses."""
    # imported per command, like run_check's: the other commands need none of them
    from kefu_check.lint import check_unused
    from kefu_check.project import load_project
    from kefu_check.settings import load_settings
    from kefu_check.validate import run_validate

    project = load_project(root)
    unused = StageResult("回复使用检查(unused-response)", findings=check_unused(project, load_settings(root)))
    return _print_report([run_validate(root, project), unused], title="make validate")


def run_eval(root: Path, external: bool, train: bool) -> int:
    try:
        if external:
            results = evaluation.evaluate_external(root, train=train)
            if results is None:
                print(f"没有外部评估集 {evaluation.external_dir(root)},跳过外部评估。(external evaluation set not found; skipped)")
                return 0
            print(f"外部评估({evaluation.EXTERNAL_DIR}/): " + evaluation.summary_line(results))
            print("\n".join(evaluation.intent_table(root / evaluation.EXTERNAL_DIR)))
            return 0
        results = evaluation.evaluate(root, train=train)
    except evaluation.EvalError as exc:
        print(str(exc))
        return 1
    print("评估结果(results/summary.txt): " + evaluation.summary_line(results))
    print("\n".join(evaluation.intent_table(root / evaluation.EVAL_DIR)))
    print(f"详细报告: {evaluation.EVAL_DIR}/intent_report.json, 混淆矩阵: {evaluation.EVAL_DIR}/intent_confusion_matrix.png")
    return 0


def run_accept(root: Path, train: bool) -> int:
    try:
        results = evaluation.accept(root, train=train)
    except evaluation.EvalError as exc:
        print(str(exc))
        return 1
    print(f"已把当前结果写入 {evaluation.BASELINE}(以后 make check 以它为准): " + evaluation.summary_line(results))
    print("请把 tests/nlu/baseline.json 和这次的改动一起提交。")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m kefu_check", description="Kefu 话术和模型检查(make check)")
    parser.add_argument("command", nargs="?", default="check", choices=["check", "lint", "validate", "eval", "accept", "rules"],
                        help="check(默认): 全部检查; lint: 只查话术; validate: rasa data validate 和回复使用检查; "
                             "eval: 评估; accept: 接受当前评估结果; rules: 列出规则")
    parser.add_argument("--root", type=Path, default=Path("."), help="项目根目录(默认当前目录)")
    parser.add_argument("--skip-eval", action="store_true", help="不训练、不评估,只做快速检查")
    parser.add_argument("--skip-validate", action="store_true", help="不运行 rasa data validate")
    parser.add_argument("--external", action="store_true", help="eval: 在 ../shared/external-eval 上评估")
    parser.add_argument("--no-train", action="store_true", help="不调用 make train,直接用现有模型")
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    root: Path = args.root.resolve()
    train = not args.no_train
    if args.command == "rules":
        for rule, meaning in RULES.items():
            print(f"[{rule}] {meaning}")
        return 0
    if args.command == "lint":
        return run_check(root, skip_eval=True, skip_validate=True, train=False)
    if args.command == "validate":
        return run_validate_only(root)
    if args.command == "eval":
        return run_eval(root, args.external, train)
    if args.command == "accept":
        return run_accept(root, train)
    return run_check(root, args.skip_eval, args.skip_validate, train)
