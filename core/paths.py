"""Filesystem locations, overridable from the environment (see README)."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """Runtime state (Redis AOF, SQLite, jieba cache): KEFU_DATA_DIR, default ./var."""
    return Path(os.environ.get("KEFU_DATA_DIR", ROOT / "var")).resolve()


def spacy_model_dir() -> Path:
    """The built spaCy pipeline: KEFU_SPACY_MODEL, default ./build/spacy/zh_kefu."""
    return Path(os.environ.get("KEFU_SPACY_MODEL", ROOT / "build" / "spacy" / "zh_kefu")).resolve()


PATTERNS_FILE = ROOT / "data" / "patterns.yml"
TYPOS_FILE = ROOT / "data" / "typos.yml"
SAFETY_LEXICON_FILE = ROOT / "data" / "safety_lexicon.yml"
SENTIMENT_LEXICON_FILE = ROOT / "data" / "sentiment_lexicon.yml"
JIEBA_DICT_DIR = ROOT / "data" / "jieba"
