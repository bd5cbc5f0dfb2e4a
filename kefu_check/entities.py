"""Entity F1 of the SpacyEntityExtractor on an evaluation set.

Rasa 3.6's ``rasa test nlu`` skips pretrained extractors (PRETRAINED_EXTRACTORS
= Duckling, Spacy), so it never writes SpacyEntityExtractor_report.json. This
module writes that report itself, in the same layout (per label precision,
recall, f1-score, support + macro avg), matching (label, text) spans per example.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Tuple

EXTRACTOR = "SpacyEntityExtractor"

Span = Tuple[str, str]


def gold_examples(nlu: Path) -> List[Tuple[str, List[Span]]]:
    from rasa.shared.nlu.training_data.loading import load_data  # here, not at the top: Rasa is heavy, only eval needs it

    files = sorted(p for p in nlu.rglob("*") if p.suffix in (".yml", ".yaml")) if nlu.is_dir() else [nlu]
    rows = []  # file by file: load_data on the directory rejects tests/nlu/baseline.json
    for message in (m for f in files for m in load_data(str(f)).nlu_examples):
        text = str(message.get("text") or "")
        spans = [(str(e["entity"]), text[int(e["start"]):int(e["end"])]) for e in message.get("entities") or []]
        rows.append((text, spans))
    return rows


def predicted_spans(text: str, parse: Dict[str, Any]) -> List[Span]:
    spans = []
    for entity in parse.get("entities") or []:
        if entity.get("extractor", EXTRACTOR) != EXTRACTOR or "start" not in entity:
            continue
        spans.append((str(entity["entity"]), text[int(entity["start"]):int(entity["end"])]))
    return spans


def entity_report(pairs: List[Tuple[List[Span], List[Span]]]) -> Dict[str, Any]:
    """sklearn-style report from (gold, predicted) span lists per example."""
    tp: Counter = Counter()
    fp: Counter = Counter()
    fn: Counter = Counter()
    for gold, predicted in pairs:
        g, p = Counter(gold), Counter(predicted)
        for span in set(g) | set(p):
            hit = min(g[span], p[span])
            tp[span[0]] += hit
            fp[span[0]] += p[span] - hit
            fn[span[0]] += g[span] - hit
    report: Dict[str, Any] = {}
    for label in sorted(set(tp) | set(fp) | set(fn)):
        precision = tp[label] / (tp[label] + fp[label]) if tp[label] + fp[label] else 0.0
        recall = tp[label] / (tp[label] + fn[label]) if tp[label] + fn[label] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        report[label] = {"precision": precision, "recall": recall, "f1-score": f1, "support": tp[label] + fn[label]}
    if report:
        report["macro avg"] = {
            key: sum(v[key] for v in report.values()) / len(report) for key in ("precision", "recall", "f1-score")
        }
    return report


def write_entity_report(root: Path, model: Path, nlu: Path, out: Path) -> Dict[str, Any]:
    """Parse every example with the model and write ``out/SpacyEntityExtractor_report.json``."""
    # here, not at the top: Rasa (TensorFlow) is heavy and `make lint` / `make check --skip-eval` never need it
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # the agent logs every parse at debug level
    logging.getLogger("rasa").setLevel(logging.WARNING)
    cwd = os.getcwd()
    os.chdir(root)  # the pipeline loads build/spacy and data/jieba by relative path
    try:
        rows = gold_examples(nlu)
        agent = Agent.load(str(model))

        async def parse_all() -> List[Dict[str, Any]]:
            return [await agent.parse_message(text) for text, _ in rows]

        parses = asyncio.run(parse_all())
    finally:
        os.chdir(cwd)
    report = entity_report([(gold, predicted_spans(text, parse)) for (text, gold), parse in zip(rows, parses)])
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{EXTRACTOR}_report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    return report
