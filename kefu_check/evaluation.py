"""Stage 3 and `make eval`: train when needed, run `rasa test nlu`, gate on
the accepted results, write results/summary.txt; external evaluation."""
from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import yaml

from kefu_check.baseline import Comparison, EvalResults, compare, load_baseline, results_from_reports, save_baseline
from kefu_check.entities import write_entity_report
from kefu_check.findings import Finding, StageResult, relative
from kefu_check.sentences import strip_annotations
from kefu_check.project import load_project
from kefu_check.validate import rasa_env

MODEL = Path("models") / "kefu.tar.gz"
EVAL_DIR = Path("results") / "eval"
EXTERNAL_DIR = Path("results") / "external"
BASELINE = Path("tests") / "nlu" / "baseline.json"
ENTITY_REPORT = "SpacyEntityExtractor_report.json"
SUMMARY_ENTITIES = ("order_id", "phone_number")


class EvalError(RuntimeError):
    """Training or evaluation could not run; the message is for editors."""


def _run(command: List[str], root: Path, what: str) -> None:
    proc = subprocess.run(command, cwd=root, env=rasa_env(), capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-20:])
        raise EvalError(f"{what} 失败(退出码 {proc.returncode}):\n{tail}")


def ensure_model(root: Path) -> None:
    """`make train`: retrains only when data, domain or config changed."""
    _run(["make", "--no-print-directory", "train"], root, "make train")


def run_rasa_eval(root: Path, nlu: Path, out: Path, per_example: bool = True) -> None:
    if out.exists():
        shutil.rmtree(out)
    command = [sys.executable, "-m", "rasa", "test", "nlu", "--nlu", str(nlu),
               "--model", str(MODEL), "--out", str(out)]
    # Per-example predictions (successes + errors) only for our own set: the
    # external set's sentences must not be copied into results/.
    command += ["--successes"] if per_example else ["--no-errors"]
    _run(command, root, "rasa test nlu")
    if not (root / out / ENTITY_REPORT).exists():
        try:
            write_entity_report(root, root / MODEL, root / nlu, root / out)
        except Exception as exc:  # noqa: BLE001 - reported to the editor, never a traceback
            raise EvalError(f"实体评估失败: {exc}") from exc


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def read_results(out: Path) -> EvalResults:
    report = _read_json(out / "intent_report.json")
    if report is None:
        raise EvalError(f"{out}/intent_report.json 不存在: rasa test nlu 没有写出报告")
    rows: List[Dict[str, Any]] = []
    for name in ("intent_successes.json", "intent_errors.json"):
        rows += _read_json(out / name) or []
    return results_from_reports(report, rows, _read_json(out / ENTITY_REPORT))


def summary_line(results: EvalResults) -> str:
    safety = "n/a" if results.safety_recall is None else f"{results.safety_recall:.2f}"
    parts = [f"macro-F1 {results.macro_f1:.4f}", f"report_safety recall {safety}"]
    if results.safety_precision is not None:
        parts.append(f"report_safety precision {results.safety_precision:.2f}")
    for name in SUMMARY_ENTITIES:
        value = results.entity_f1.get(name)
        parts.append(f"{name} F1 {'n/a' if value is None else f'{value:.4f}'}")
    return " | ".join(parts)


def intent_table(out: Path) -> List[str]:
    """Per-intent precision / recall / F1 / support and the confusion pairs
    (``gold → predicted ×n``) from rasa's intent_report.json, for the terminal.

    Only counts: no example text (the external set stays where it is)."""
    report = _read_json(out / "intent_report.json") or {}
    rows = {name: values for name, values in report.items()
            if isinstance(values, dict) and "precision" in values and name not in ("macro avg", "weighted avg", "micro avg")}
    lines = [f"  {'intent':<20} {'P':>5} {'R':>5} {'F1':>5} {'n':>4}  confused with"]
    pairs: List[Tuple[int, str, str]] = []
    for name in sorted(rows):
        values = rows[name]
        confused = values.get("confused_with") or {}
        pairs += [(int(n), name, other) for other, n in confused.items()]
        shown = ", ".join(f"{other} ×{n}" for other, n in sorted(confused.items(), key=lambda kv: -kv[1]))
        lines.append(f"  {name:<20} {values['precision']:>5.2f} {values['recall']:>5.2f} "
                     f"{values['f1-score']:>5.2f} {int(values.get('support', 0)):>4}  {shown}")
    if pairs:
        lines.append("  confusion pairs (gold → predicted): " + "; ".join(
            f"{gold} → {other} ×{n}" for n, gold, other in sorted(pairs, key=lambda p: (-p[0], p[1], p[2]))))
    return lines


def evaluate(root: Path, train: bool = True) -> EvalResults:
    """Train if needed, evaluate on tests/nlu, write results/summary.txt."""
    if not any((root / "tests" / "nlu").glob("*.yml")):
        raise EvalError("评估集 tests/nlu/*.yml 不存在,无法评估")
    if train:
        ensure_model(root)
    if not (root / MODEL).exists():
        raise EvalError(f"{MODEL} 不存在: 先运行 make train")
    run_rasa_eval(root, Path("tests") / "nlu", EVAL_DIR)
    results = read_results(root / EVAL_DIR)
    (root / "results" / "summary.txt").write_text(summary_line(results) + "\n", encoding="utf-8")
    return results


def _eval_locations(root: Path) -> Dict[Tuple[str, str], Tuple[str, int]]:
    """(plain text, intent) → (file, line) of each evaluation example."""
    project = load_project(root)
    where: Dict[Tuple[str, str], Tuple[str, int]] = {}
    for example in project.eval_examples:
        key = (strip_annotations(example.text).strip(), example.intent)
        where.setdefault(key, (relative(example.path, root), example.line))
    return where


def comparison_findings(root: Path, comparison: Comparison) -> List[Finding]:
    baseline = BASELINE.as_posix()
    findings = [
        Finding(baseline, 1, "safety-recall" if "report_safety" in failure else "accuracy-drop", failure,
                "补充或修改相关意图的训练例句后重新运行 make check;确认是有意的改动再运行 make accept")
        for failure in comparison.failures
    ]
    if not comparison.has_baseline:
        findings.append(Finding(baseline, 1, "no-baseline", "还没有接受过的评估结果",
                                "结果确认无误后运行 make accept,并把 tests/nlu/baseline.json 一起提交", blocking=False))
    project = load_project(root)
    for intent, old, new in comparison.worse_intents:
        path, line = project.intents.get(intent, (root / "domain", 1))
        findings.append(Finding(relative(path, root), line, "intent-worse",
                                f"意图 {intent} 的 F1 从 {old:.3f} 降到 {new:.3f}",
                                "看看下面识别结果变了的句子,给这个意图补充相近的例句", blocking=False))
    where = _eval_locations(root)
    for old, new in comparison.changed:
        path, line = where.get((new.text, new.intent), ("tests/nlu", 1))
        findings.append(Finding(path, line, "label-changed",
                                f"“{new.text}”(应为 {new.intent})原来识别为 {old.predicted},现在识别为 {new.predicted}",
                                "如果变差了,给正确的意图补充相近的说法(不要照抄这句)", blocking=False))
    return findings


def eval_stage(root: Path, train: bool = True) -> StageResult:
    stage = StageResult("准确率(rasa test nlu)")
    try:
        current = evaluate(root, train=train)
    except EvalError as exc:
        stage.error = str(exc)
        return stage
    comparison = compare(current, load_baseline(root / BASELINE))
    stage.notes.append(summary_line(current))
    stage.findings = comparison_findings(root, comparison)
    return stage


def _fresh(root: Path) -> bool:
    """results/eval is newer than the model and the evaluation set."""
    report = root / EVAL_DIR / "intent_report.json"
    if not report.exists() or not (root / MODEL).exists():
        return False
    inputs = [root / MODEL] + sorted((root / "tests" / "nlu").rglob("*.yml"))
    return report.stat().st_mtime >= max(p.stat().st_mtime for p in inputs)


def accept(root: Path, train: bool = True) -> EvalResults:
    """Write the current results as the accepted baseline."""
    if train:
        ensure_model(root)
    results = read_results(root / EVAL_DIR) if _fresh(root) else evaluate(root, train=False)
    save_baseline(root / BASELINE, results)
    return results


# ---------------------------------------------------------------- external

TEXT_KEYS = ("text", "sentence", "utterance", "query", "message", "content")
INTENT_KEYS = ("intent", "label", "intent_name", "category")


def _pick(row: Dict[str, Any], keys: Tuple[str, ...]) -> Optional[str]:
    for key in keys:
        for actual in row:
            if str(actual).lower() == key and row[actual] not in (None, ""):
                return str(row[actual])
    return None


def _annotate(text: str, entities: Any) -> str:
    """Rasa markup for entity spans given as start/end offsets."""
    spans = []
    for entity in entities or []:
        if isinstance(entity, dict) and {"start", "end"} <= set(entity):
            label = entity.get("entity") or entity.get("label")
            if label:
                spans.append((int(entity["start"]), int(entity["end"]), str(label)))
    for start, end, label in sorted(spans, reverse=True):
        text = f"{text[:start]}[{text[start:end]}]({label}){text[end:]}"
    return text


def _rows(path: Path) -> Iterator[Dict[str, Any]]:
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                yield json.loads(line)
    elif suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict):
            data = data.get("rasa_nlu_data", {}).get("common_examples") or data.get("examples") or data.get("data") or []
        yield from (row for row in data if isinstance(row, dict))
    elif suffix in (".csv", ".tsv"):
        with path.open(encoding="utf-8", newline="") as handle:
            yield from csv.DictReader(handle, delimiter="\t" if suffix == ".tsv" else ",")


def convert_external(source: Path, target: Path) -> Tuple[int, List[str]]:
    """Write every external example into one Rasa NLU file ``target``.

    Rasa NLU YAML files are used as they are; JSON / JSONL / CSV / TSV rows
    need a text and an intent column. Returns (examples, skipped file names).
    """
    by_intent: Dict[str, List[str]] = {}
    skipped: List[str] = []
    nlu_blocks: List[Dict[str, Any]] = []
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        suffix = path.suffix.lower()
        if suffix in (".yml", ".yaml"):
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            blocks = doc.get("nlu") if isinstance(doc, dict) else None
            if blocks:
                nlu_blocks += [b for b in blocks if isinstance(b, dict) and "intent" in b]
            else:
                skipped.append(path.name)
            continue
        if suffix not in (".json", ".jsonl", ".csv", ".tsv"):
            skipped.append(path.name)
            continue
        count = 0
        for row in _rows(path):
            text, intent = _pick(row, TEXT_KEYS), _pick(row, INTENT_KEYS)
            if text and intent:
                one_line = " ".join(text.split())
                by_intent.setdefault(intent, []).append(_annotate(one_line, row.get("entities")))
                count += 1
        if not count:
            skipped.append(path.name)
    for intent, texts in by_intent.items():
        nlu_blocks.append({"intent": intent, "examples": "".join(f"- {t}\n" for t in texts)})
    total = sum(len([l for l in str(b.get("examples", "")).splitlines() if l.strip().startswith("- ")])
                for b in nlu_blocks)
    target.write_text(yaml.safe_dump({"version": "3.1", "nlu": nlu_blocks}, allow_unicode=True), encoding="utf-8")
    return total, skipped


def external_dir(root: Path) -> Path:
    return (root / ".." / "shared" / "external-eval").resolve()


def evaluate_external(root: Path, train: bool = True) -> Optional[EvalResults]:
    """Evaluate on ../shared/external-eval; None when it does not exist."""
    source = external_dir(root)
    if not source.is_dir():
        return None
    if train:
        ensure_model(root)
    with tempfile.TemporaryDirectory(prefix="kefu-external-", dir="/tmp") as tmp:
        nlu = Path(tmp) / "external_nlu.yml"
        total, skipped = convert_external(source, nlu)
        if skipped:
            print("外部评估集中无法读取的文件: " + ", ".join(skipped))
        if total == 0:
            raise EvalError(f"{source} 里没有可用的例句(需要 Rasa NLU YAML,或带 text/intent 字段的 JSON/JSONL/CSV)")
        run_rasa_eval(root, nlu, EXTERNAL_DIR, per_example=False)
    results = read_results(root / EXTERNAL_DIR)
    (root / EXTERNAL_DIR / "summary.txt").write_text(summary_line(results) + "\n", encoding="utf-8")
    return results
