"""The normaliser: what understanding sees, and what the transcript keeps."""
from __future__ import annotations

import asyncio

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.events import UserUttered

import random

import pytest

from core.text import is_byte_noise, normalize
from tests.model import agent, parse


def tokens(text: str) -> list:
    """The tokens the trained pipeline produced for ``text``."""
    parsed = parse(text)
    return [parsed["text"][start:end] for start, end in parsed["text_tokens"]]


def test_traditional_and_simplified_give_the_same_tokens() -> None:
    assert tokens("請問我的外賣到哪裡了") == tokens("请问我的外卖到哪里了")
    assert "外卖" in tokens("請問我的外賣到哪裡了")


def test_full_width_zero_width_and_control_characters_are_cleaned() -> None:
    text, traditional = normalize("订单\u200b１３８１２３４５６７８\x00！")
    assert text == "订单13812345678 !"
    assert traditional is False


def test_tags_are_blanked_without_moving_offsets() -> None:
    text, _ = normalize("<b>外卖</b>")
    assert text.strip() == "外卖"
    assert len(text) == len("<b>外卖</b>")


def test_tracker_keeps_the_traditional_original_and_parse_is_simplified() -> None:
    sender = "normalizer-test"
    bot = agent()
    asyncio.run(bot.handle_message(UserMessage("請問我的外賣到哪裡了", CollectingOutputChannel(), sender)))
    tracker = asyncio.run(bot.tracker_store.retrieve(sender))
    user_events = [e for e in tracker.events if isinstance(e, UserUttered)]
    assert user_events[-1].text == "請問我的外賣到哪裡了"
    assert user_events[-1].parse_data["text"] == "请问我的外卖到哪里了"
    assert user_events[-1].parse_data["script"] == "hant"


def test_digit_slang_goodbye_is_understood_but_numbers_stay_numbers() -> None:
    assert normalize("886")[0] == "拜拜" and normalize("88~")[0] == "拜拜~"
    for number in ("2023112215300012345", "5", "88元", "886号", "1886"):
        assert normalize(number)[0] == number
    assert parse("886")["intent"]["name"] == "goodbye"
    assert parse("88")["intent"]["name"] == "goodbye"


@pytest.mark.parametrize("seed", range(50))
def test_bytes_shown_as_text_are_noise_and_understood_as_nothing(seed: int) -> None:
    blob = random.Random(seed).randbytes(64).decode("latin-1")
    assert is_byte_noise(blob)
    # not an order detail, a thank-you or a foreign language: the polite out-of-scope answer
    assert parse(blob)["intent"]["name"] == "out_of_scope"


@pytest.mark.parametrize("text", [
    "Où est ma commande? Je l'ai payée hier « vite »",
    "Đơn hàng của tôi đâu rồi? Tôi đã đợi 2 tiếng",
    "Wo ist meine Bestellung? Ich warte seit zwei Stunden, 12,50 €",
    "😭😭😭😭😭😭😭😭😭😭",
    "我的订单 ¥25.5 ×2 到哪了 ©®°",
    "Price: $12 × 3 = $36",
    "",
])
def test_real_messages_in_any_language_are_not_noise(text: str) -> None:
    assert not is_byte_noise(text)

