"""Rasa NLU components (config.yml ``pipeline``), in the order a message meets them.

- ``normalizer.ChineseNormalizer``: typos, Traditional to Simplified, full-width, emoji.
- ``zh_pipeline``: builds the blank spaCy ``zh`` pipeline (jieba + entity rules) `make spacy` writes.
- ``entities.PatternValueMapper`` / ``entities.NumberAwareFallback``: canonical entity values;
  numbers that are not an order, a phone or a plate.
- ``urgency.UrgencyResolver``: several sentences in one message, the most urgent one decides.
- ``safety.SafetyNet``: the safety lexicon after the classifiers (safety goes to a person).
- ``sentiment.SentimentAnalyzer``: anger and urgency on every message.
"""
