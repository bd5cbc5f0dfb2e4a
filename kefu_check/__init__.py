"""Kefu quality gate for script editors: `python -m kefu_check`.

Stages: ``rasa data validate``, a script linter with line numbers
(:mod:`kefu_check.lint`), and an accuracy gate against the accepted results in
``tests/nlu/baseline.json`` (:mod:`kefu_check.evaluation`).
"""
from __future__ import annotations

__all__ = ["__version__"]

__version__ = "1.0"
