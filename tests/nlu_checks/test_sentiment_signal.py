"""Sentiment (issue 14): fear is its own label and raises the ticket's
priority; anger is read behind politeness words; polite questions stay calm."""
from __future__ import annotations

from functools import lru_cache

import pytest
from rasa_sdk import Tracker

from actions.handoff import sentiment_of
from bot.nlu.sentiment import SentimentLexicon
from core.text import normalize
from handoff.queue import priority_for


@lru_cache(maxsize=1)
def lexicon() -> SentimentLexicon:
    return SentimentLexicon.load()


def label(text: str) -> str:
    return str(lexicon().score(normalize(text)[0])["label"])


@pytest.mark.parametrize("text", ["我好害怕", "我現在很怕,不敢下車", "吓得我腿都软了", "心慌得很,怎么办怎么办"])
def test_fear_is_not_calm(text: str) -> None:
    assert label(text) == "fear"


def test_fear_wins_over_an_equal_anger() -> None:
    assert label("他骂我还威胁我,我好害怕!!") == "fear"


@pytest.mark.parametrize("text", [
    "您好,请问你们到底还要我等多久,谢谢",
    "呵呵,真是谢谢你们了",
    "麻烦您,这已经是第几次了,上点心好吗",
    "您好 道歉有什么用 我只要个结果",
    "請問你們客服是擺設嗎",
])
def test_anger_behind_polite_words(text: str) -> None:
    assert label(text) == "angry"


@pytest.mark.parametrize("text", ["您好,麻烦帮我查一下快递,谢谢", "请问发票怎么开", "辛苦了,谢谢您"])
def test_polite_questions_stay_calm(text: str) -> None:
    assert label(text) == "calm"


def test_a_frightened_customer_is_p1_and_safety_stays_p0() -> None:
    assert priority_for("request_human", "fear") == "P1"
    assert priority_for("safety", "fear") == "P0"
    assert priority_for("request_human", "calm") == "P2"


def _tracker(*labels: str) -> Tracker:
    events = [{"event": "user", "text": "…", "parse_data": {"sentiment": {"label": l}}} for l in labels]
    latest = events[-1]["parse_data"]
    return Tracker("c", {}, latest, events, False, None, {}, "")


def test_fear_a_message_ago_still_counts_for_the_ticket() -> None:
    assert sentiment_of(_tracker("fear", "calm")) == "fear"
    assert sentiment_of(_tracker("calm", "angry")) == "angry"
    assert sentiment_of(_tracker("fear", "calm", "calm", "calm")) == "calm"
