"""The accuracy gate on synthetic reports: no model needed."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional

from kefu_check.baseline import compare, load_baseline, results_from_reports, save_baseline, EvalResults
from kefu_check.evaluation import convert_external, summary_line


def _report(f1: Dict[str, float], safety_recall: float = 1.0) -> Dict[str, object]:
    report: Dict[str, object] = {
        name: {"precision": v, "recall": safety_recall if name == "report_safety" else v, "f1-score": v, "support": 10}
        for name, v in f1.items()
    }
    report["accuracy"] = 0.9
    report["macro avg"] = {"f1-score": sum(f1.values()) / len(f1)}
    report["weighted avg"] = {"f1-score": 0.9}
    return report


def _rows(labels: Dict[str, str]) -> List[Dict[str, object]]:
    return [{"text": text, "intent": text.split(":")[0], "intent_prediction": {"name": pred, "confidence": 0.9}}
            for text, pred in labels.items()]


BASE_LABELS = {"report_delay:还没到": "report_delay", "fee_dispute:太贵了": "fee_dispute", "report_safety:救命": "report_safety"}


def _results(f1: Dict[str, float], safety: float = 1.0, labels: Optional[Dict[str, str]] = None) -> EvalResults:
    entity = {"order_id": {"f1-score": 0.99}, "phone_number": {"f1-score": 1.0}, "macro avg": {"f1-score": 0.5}}
    return results_from_reports(_report(f1, safety), _rows(labels or BASE_LABELS), entity)


BASE = {"report_delay": 0.95, "fee_dispute": 0.95, "report_safety": 1.0}


def test_drop_of_more_than_one_point_fails_and_names_the_intent() -> None:
    current = _results({"report_delay": 0.90, "fee_dispute": 0.95, "report_safety": 1.0},
                       labels={**BASE_LABELS, "report_delay:还没到": "query_order_status"})
    result = compare(current, _results(BASE))
    assert not result.passed
    assert [w[0] for w in result.worse_intents] == ["report_delay"]
    text = "\n".join(result.lines())
    assert "macro-F1" in text and "report_delay" in text
    assert "还没到" in text and "report_delay → query_order_status" in text


def test_drop_within_one_point_passes_but_reports_the_worse_intent() -> None:
    result = compare(_results({"report_delay": 0.93, "fee_dispute": 0.95, "report_safety": 1.0}), _results(BASE))
    assert result.passed
    assert result.worse_intents and result.worse_intents[0][0] == "report_delay"


def test_safety_recall_below_one_fails_even_when_f1_improves() -> None:
    result = compare(_results({"report_delay": 0.99, "fee_dispute": 0.99, "report_safety": 0.97}, safety=0.95),
                     _results(BASE))
    assert not result.passed
    assert any("report_safety" in line and "0.95" in line for line in result.failures)


def test_improvement_passes_with_nothing_worse() -> None:
    result = compare(_results({"report_delay": 0.99, "fee_dispute": 0.97, "report_safety": 1.0}), _results(BASE))
    assert result.passed and not result.worse_intents and not result.changed
    assert result.macro_delta is not None and result.macro_delta > 0


def test_changed_labels_are_listed_even_when_passing() -> None:
    labels = {**BASE_LABELS, "fee_dispute:太贵了": "payment_issue"}
    result = compare(_results(BASE, labels=labels), _results(BASE))
    assert result.passed
    assert [(old.predicted, new.predicted) for old, new in result.changed] == [("fee_dispute", "payment_issue")]
    assert any("太贵了" in line for line in result.lines())


def test_no_baseline_passes_on_safety_and_asks_for_accept() -> None:
    result = compare(_results(BASE), None)
    assert result.passed and not result.has_baseline
    assert any("make accept" in line for line in result.lines())


def test_baseline_round_trip_and_summary(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    save_baseline(path, _results(BASE))
    loaded = load_baseline(path)
    assert loaded is not None and loaded.per_intent_f1 == BASE and len(loaded.predictions) == 3
    assert summary_line(loaded) == (
        f"macro-F1 {sum(BASE.values()) / 3:.4f} | report_safety recall 1.00 | report_safety precision 1.00 | order_id F1 0.9900 | phone_number F1 1.0000"
    )


def test_external_conversion_accepts_jsonl_with_entities(tmp_path: Path) -> None:
    source = tmp_path / "ext"
    source.mkdir()
    (source / "set.jsonl").write_text(
        '{"text": "查订单 EA123456789CN", "intent": "query_order_status",'
        ' "entities": [{"start": 4, "end": 17, "entity": "order_id"}]}\n', encoding="utf-8")
    (source / "notes.md").write_text("x", encoding="utf-8")
    target = tmp_path / "out.yml"
    total, skipped = convert_external(source, target)
    assert total == 1 and skipped == ["notes.md"]
    assert "[EA123456789CN](order_id)" in target.read_text(encoding="utf-8")


def test_entity_report_matches_spans_per_label() -> None:
    from kefu_check.entities import entity_report

    report = entity_report([
        ([("order_id", "EA123456789CN")], [("order_id", "EA123456789CN")]),
        ([("phone_number", "13812345678")], []),
        ([], [("phone_number", "13900000000")]),
    ])
    assert report["order_id"]["f1-score"] == 1.0
    assert report["phone_number"] == {"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 1}
