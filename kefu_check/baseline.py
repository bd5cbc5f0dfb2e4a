"""Accepted evaluation results (tests/nlu/baseline.json) and the comparison gate.

Pure functions over plain dicts, so the gate is unit-testable without a model.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

SAFETY_INTENT = "report_safety"
MAX_MACRO_DROP = 0.01
MIN_SAFETY_RECALL = 1.0
_AGGREGATES = {"accuracy", "macro avg", "weighted avg", "micro avg"}
_EPS = 1e-9


@dataclass(frozen=True)
class Prediction:
    text: str
    intent: str
    predicted: str


@dataclass
class EvalResults:
    macro_f1: float
    per_intent_f1: Dict[str, float]
    safety_recall: Optional[float]
    entity_f1: Dict[str, float] = field(default_factory=dict)
    predictions: List[Prediction] = field(default_factory=list)
    safety_precision: Optional[float] = None

    def to_json(self) -> Dict[str, Any]:
        data = asdict(self)
        data["predictions"] = [asdict(p) for p in sorted(self.predictions, key=lambda p: (p.intent, p.text))]
        return data

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "EvalResults":
        return cls(
            macro_f1=float(data["macro_f1"]),
            per_intent_f1={k: float(v) for k, v in (data.get("per_intent_f1") or {}).items()},
            safety_recall=None if data.get("safety_recall") is None else float(data["safety_recall"]),
            entity_f1={k: float(v) for k, v in (data.get("entity_f1") or {}).items()},
            predictions=[Prediction(str(p["text"]), str(p["intent"]), str(p["predicted"]))
                         for p in data.get("predictions") or []],
            safety_precision=None if data.get("safety_precision") is None else float(data["safety_precision"]),
        )


def results_from_reports(
    intent_report: Dict[str, Any],
    predictions: List[Dict[str, Any]],
    entity_report: Optional[Dict[str, Any]] = None,
) -> EvalResults:
    """EvalResults from rasa's intent_report.json, its per-example
    successes+errors (``text``, ``intent``, ``intent_prediction.name``) and an
    entity report such as SpacyEntityExtractor_report.json."""
    per_intent = {
        name: float(values["f1-score"])
        for name, values in intent_report.items()
        if name not in _AGGREGATES and isinstance(values, dict) and "f1-score" in values
    }
    safety = intent_report.get(SAFETY_INTENT)
    entity_f1 = {
        name: float(values["f1-score"])
        for name, values in (entity_report or {}).items()
        if name not in _AGGREGATES and isinstance(values, dict) and "f1-score" in values
    }
    rows = [
        Prediction(str(p.get("text", "")), str(p.get("intent", "")),
                   str((p.get("intent_prediction") or {}).get("name") or ""))
        for p in predictions
    ]
    return EvalResults(
        macro_f1=float(intent_report.get("macro avg", {}).get("f1-score", 0.0)),
        per_intent_f1=per_intent,
        safety_recall=float(safety["recall"]) if isinstance(safety, dict) and "recall" in safety else None,
        entity_f1=entity_f1,
        predictions=rows,
        safety_precision=float(safety["precision"]) if isinstance(safety, dict) and "precision" in safety else None,
    )


@dataclass
class Comparison:
    passed: bool
    failures: List[str]
    macro_delta: Optional[float]
    worse_intents: List[Tuple[str, float, float]]  # (intent, accepted F1, current F1)
    changed: List[Tuple[Prediction, Prediction]]  # (accepted, current)
    has_baseline: bool

    def lines(self, limit: int = 20) -> List[str]:
        """What an editor reads: failures, worse intents, changed examples."""
        out = list(self.failures)
        if not self.has_baseline:
            out.append("还没有接受过的评估结果:确认无误后运行 make accept(python -m kefu_check accept)")
        for intent, old, new in self.worse_intents:
            out.append(f"变差的意图 {intent}: F1 {old:.3f} → {new:.3f}")
        for old, new in self.changed[:limit]:
            out.append(f"识别结果变了: “{new.text}”(应为 {new.intent}) {old.predicted or '?'} → {new.predicted or '?'}")
        if len(self.changed) > limit:
            out.append(f"……另外还有 {len(self.changed) - limit} 句识别结果变了")
        return out


def compare(
    current: EvalResults,
    accepted: Optional[EvalResults],
    max_drop: float = MAX_MACRO_DROP,
    min_safety_recall: float = MIN_SAFETY_RECALL,
) -> Comparison:
    """The accuracy gate: fail on a macro-F1 drop of more than ``max_drop`` or
    report_safety recall below ``min_safety_recall``."""
    failures: List[str] = []
    if current.safety_recall is None:
        failures.append(f"评估集里没有 {SAFETY_INTENT} 的句子,无法确认安全类消息都能识别")
    elif current.safety_recall < min_safety_recall - _EPS:
        failures.append(
            f"{SAFETY_INTENT} 召回率 {current.safety_recall:.2f} 低于 {min_safety_recall:.2f}: 有安全类消息没有识别出来"
        )
    if accepted is None:
        return Comparison(not failures, failures, None, [], [], has_baseline=False)
    delta = current.macro_f1 - accepted.macro_f1
    if -delta > max_drop + _EPS:
        failures.append(
            f"macro-F1 从 {accepted.macro_f1:.4f} 降到 {current.macro_f1:.4f}(下降 {-delta * 100:.2f} 个百分点,上限 {max_drop * 100:.0f})"
        )
    worse = sorted(
        ((name, old, current.per_intent_f1[name])
         for name, old in accepted.per_intent_f1.items()
         if name in current.per_intent_f1 and current.per_intent_f1[name] < old - _EPS),
        key=lambda item: item[2] - item[1],
    )
    before = {(p.text, p.intent): p for p in accepted.predictions}
    changed = [
        (before[(p.text, p.intent)], p)
        for p in current.predictions
        if (p.text, p.intent) in before and before[(p.text, p.intent)].predicted != p.predicted
    ]
    return Comparison(not failures, failures, delta, worse, changed, has_baseline=True)


def load_baseline(path: Path) -> Optional[EvalResults]:
    if not path.exists():
        return None
    return EvalResults.from_json(json.loads(path.read_text(encoding="utf-8")))


def save_baseline(path: Path, results: EvalResults) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"_comment": "make accept(python -m kefu_check accept)写入的已接受评估结果,不要手改"}
    data.update(results.to_json())
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=False) + "\n", encoding="utf-8")
