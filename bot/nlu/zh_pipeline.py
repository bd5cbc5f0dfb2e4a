"""The blank Chinese spaCy pipeline: jieba segmentation plus entity rules.

Built by code (`python -m bot.nlu.zh_pipeline build`, run by `make spacy`) because
no model download exists here, saved under build/spacy/zh_kefu and loaded by
Rasa's SpacyNLP by path. Patterns come from data/patterns.yml only:

- ``entity_ruler``: phrase patterns (order-type words, labelled ``order_type``);
- ``kefu_regex_entities``: the validated regexes of core/patterns.py, matched on
  characters and aligned to jieba tokens.

The same pipeline finds personal data for masking (core/pii.py).
"""


import argparse
import hashlib
import json
from pathlib import Path
from typing import Any, Dict, List, Optional

import jieba
import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from core import patterns as pattern_rules
from core.paths import JIEBA_DICT_DIR, PATTERNS_FILE, data_dir, spacy_model_dir

_jieba_ready = False


def configure_jieba() -> None:
    """Keep jieba's cache in the project's data dir and load the user words."""
    global _jieba_ready
    if _jieba_ready:
        return
    cache_dir = data_dir() / "jieba"
    cache_dir.mkdir(parents=True, exist_ok=True)
    jieba.dt.tmp_dir = str(cache_dir)
    jieba.setLogLevel(60)
    if JIEBA_DICT_DIR.is_dir():
        for path in sorted(JIEBA_DICT_DIR.glob("*.txt")):
            jieba.load_userdict(str(path))
    _jieba_ready = True


@Language.factory(
    "kefu_regex_entities",
    default_config={"regexes": []},
)
def make_regex_entities(nlp: Language, name: str, regexes: List[Dict[str, Any]]):  # noqa: ANN201 - spaCy reads this signature
    return RegexEntities(regexes)


class RegexEntities:
    """Adds validated regex matches as entities, keeping the ruler's spans."""

    def __init__(self, regexes: List[Dict[str, Any]]) -> None:
        self.spec = regexes
        self.compiled = pattern_rules.compile_regexes(regexes)

    def __call__(self, doc: Doc) -> Doc:
        spans: List[Span] = list(doc.ents)
        for match in pattern_rules.find_matches(doc.text, self.compiled):
            span = doc.char_span(match.start, match.end, label=match.label, alignment_mode="contract")
            if span is None or span.text.strip() != match.value:
                span = doc.char_span(match.start, match.end, label=match.label, alignment_mode="expand")
            if span is not None:
                spans.append(span)
        # Regex spans first so they win ties against phrase words inside them.
        spans.sort(key=lambda s: 0 if s.label_ != "order_type" else 1)
        doc.ents = filter_spans(spans)
        return doc


def phrase_patterns(spec: Dict[str, Any]) -> List[Dict[str, Any]]:
    rules = []
    for label, groups in spec.get("phrases", {}).items():
        for value, words in groups.items():
            for word in words:
                rules.append({"label": label, "pattern": word, "id": value})
    return rules


def patterns_fingerprint(path: Path = PATTERNS_FILE) -> str:
    return hashlib.sha256(path.read_bytes() + spacy.__version__.encode()).hexdigest()[:16]


def build(out_dir: Optional[Path] = None) -> Path:
    """Build and save the pipeline; a no-op when patterns did not change."""
    out_dir = out_dir or spacy_model_dir()
    fingerprint = patterns_fingerprint()
    stamp = out_dir / "kefu_fingerprint.txt"
    if stamp.exists() and stamp.read_text().strip() == fingerprint:
        return out_dir
    configure_jieba()
    spec = pattern_rules.load_spec()
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    ruler.add_patterns(phrase_patterns(spec))
    nlp.add_pipe("kefu_regex_entities", config={"regexes": spec["regexes"]})
    nlp.meta["name"] = "zh_kefu"
    nlp.meta["description"] = "Kefu: blank zh + jieba + entity rules from data/patterns.yml"
    out_dir.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(out_dir)
    stamp.write_text(fingerprint)
    return out_dir


_loaded: Optional[Language] = None


def load() -> Language:
    """The saved pipeline, built first when missing (cached per process)."""
    global _loaded
    if _loaded is None:
        configure_jieba()
        path = build()
        _loaded = spacy.load(path)
    return _loaded


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description="Build or try the Kefu spaCy pipeline")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("build")
    try_cmd = sub.add_parser("parse")
    try_cmd.add_argument("text")
    args = parser.parse_args(argv)
    if args.cmd == "build":
        print(build())
    else:
        doc = load()(args.text)
        print(json.dumps([{"label": e.label_, "text": e.text, "id": e.ent_id_} for e in doc.ents], ensure_ascii=False))


if __name__ == "__main__":
    main()
