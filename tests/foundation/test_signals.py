"""Safety net and sentiment signal: lexicon behaviour without a model."""
from __future__ import annotations

import pytest

from bot.nlu.safety import SafetyLexicon
from bot.nlu.sentiment import SentimentLexicon
from core.text import normalize


@pytest.fixture(scope="module")
def safety() -> SafetyLexicon:
    return SafetyLexicon.load()


@pytest.mark.parametrize(
    "text",
    [
        "救命!!!",
        "司机好像喝酒了,一身酒味",
        "他把车往偏僻的地方开",
        "骑手威胁我说要报复",
        "出车祸了",
        "有人一直跟踪我",
        "司機一直問我住哪裡還要加微信",
        "我要报警",
        "快打110",
        "他不让我下车",
        "司机把车开到山里去了",
    ],
)
def test_danger_is_always_caught(safety: SafetyLexicon, text: str) -> None:
    simplified, _ = normalize(text)
    assert safety.cues(simplified), text


@pytest.mark.parametrize(
    "text",
    ["我的外卖到哪了", "订单2023111015300012345退款", "司机迟到了二十分钟", "我要开发票"],
)
def test_ordinary_messages_are_not_flagged(safety: SafetyLexicon, text: str) -> None:
    assert not safety.cues(normalize(text)[0])


@pytest.fixture(scope="module")
def sentiment() -> SentimentLexicon:
    return SentimentLexicon.load()


def test_anger_urgency_and_calm(sentiment: SentimentLexicon) -> None:
    assert sentiment.score(normalize("什么破平台,垃圾！！！")[0])["label"] == "angry"
    assert sentiment.score(normalize("我赶飞机,麻烦快点")[0])["label"] == "urgent"
    assert sentiment.score("请问我的快递到哪了")["label"] == "calm"
    assert sentiment.score("WHERE IS MY FOOD???")["anger"] >= 0.9
    assert sentiment.score("😡😡")["label"] == "angry"
