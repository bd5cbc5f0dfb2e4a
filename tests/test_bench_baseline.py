"""The stock-Rasa baseline of `make bench` (bench/stock_stack.py) is really stock, and answers as Kefu does.

Issue 17's targets are ratios against it, so a baseline that silently ran
Kefu's stores or speed-ups (a smaller ratio) or answered other replies (a
different workload) would make every figure wrong.
"""
from __future__ import annotations

import json
from typing import Iterator, Tuple

import httpx
import pytest
import redis

from bench.conversations import conversation
from bench.stock_stack import STOCK_DB, ResponseNames, StockStack, reply_texts
from bot.runner.stack_process import StackProcess
from core.redis_url import RedisSettings


@pytest.fixture(scope="module")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tuple[StackProcess, StockStack]]:
    data = tmp_path_factory.mktemp("bench-baseline")
    kefu = StackProcess(StackProcess.free_env(data / "kefu", KEFU_CREDENTIALS="bench/credentials_stock.yml"))
    try:
        stock = StockStack(kefu, data / "stock")
        try:
            yield kefu, stock
        finally:
            stock.stop()
    finally:
        kefu.stop()


def test_stock_rasa_answers_generated_conversations_as_the_kefu_channel_does(stacks: Tuple[StackProcess, StockStack]) -> None:
    kefu, stock = stacks
    names = ResponseNames()  # either NLG picks a response's variant at random: the response and its values must match
    for seed in range(5):
        texts = [text for _step, text in conversation(seed)]
        ours = names.turns(reply_texts(kefu.url("rasa"), "/webhooks/kefu/webhook", f"same-k-{seed}", texts))
        theirs = names.turns(reply_texts(stock.url("rasa"), "/webhooks/rest/webhook", f"same-s-{seed}", texts))
        assert all(ours), f"seed {seed}: a turn without a reply on Kefu's channel: {list(zip(texts, ours))}"
        assert all(name.startswith("utter_") for turn in ours for name in turn), ours
        assert theirs == ours, f"seed {seed}: {list(zip(texts, ours, theirs))}"


def test_stock_rasa_keeps_its_trackers_in_rasas_own_format_in_its_own_database(stacks: Tuple[StackProcess, StockStack]) -> None:
    kefu, stock = stacks
    reply_texts(stock.url("rasa"), "/webhooks/rest/webhook", "stock-format", ["你好"])
    settings = RedisSettings.parse(kefu.url("redis"))
    client = redis.Redis(host=settings.hosts[0][0], port=settings.hosts[0][1], db=STOCK_DB, password=settings.password)
    try:
        # RedisTrackerStore: "<key_prefix>:tracker:<sender id>", the whole tracker as one JSON value
        stored = client.get("stock:tracker:stock-format")
        assert stored is not None, sorted(client.keys())[:10]
        dialogue = json.loads(stored)  # Rasa's Dialogue.as_dict(): the name and every event
        assert dialogue["name"] == "stock-format" and any(e.get("text") == "你好" for e in dialogue["events"])
    finally:
        client.close()


def test_stock_rasa_has_none_of_kefus_channels(stacks: Tuple[StackProcess, StockStack]) -> None:
    _kefu, stock = stacks
    assert httpx.get(stock.url("rasa") + "/webhooks/kefu/", timeout=5).status_code == 404
    assert httpx.get(stock.url("rasa") + "/webhooks/rest/", timeout=5).status_code == 200
