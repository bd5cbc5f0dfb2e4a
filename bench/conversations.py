"""The simulated customers' conversations (bench/locustfile.py, warm-up in bench/run.py).

Multi-turn, with real order look-ups against the seeded demo database
(scripts/seed_orders.py): order numbers, parcel numbers, phone numbers.
Every conversation is drawn from a seeded generator: five flows, several
wordings per step, the customer's own order or phone number (a demo one, so
the look-up finds it, or, for order status, an unknown one, so it does not),
fillers, punctuation and emoji; an unknown number is followed by the right
one. The flows end with the customer satisfied:
the benchmark measures the bot, and conversations that go to a person are
measured by bench/handoff_bench.py. Short formulaic messages (你好, 谢谢, 再见) repeat as
they do in real chats; messages with numbers or descriptions mostly do not.
That matters because the bot caches NLU parses by exact text
(bot/channels/speedups.py): a benchmark of five fixed scripts would measure the cache,
not the bot. bench/run.py reports the share of repeated texts next to the
figures.

Kept apart from the locustfile so importing them does not import locust
(which monkey-patches the standard library with gevent).
"""
from __future__ import annotations

import random
from typing import Callable, Dict, List, Sequence, Tuple

Turn = Tuple[str, str]

#: order numbers in the seeded demo database
FOOD_ORDERS = ("2023112215300012345", "2023112112000067890")
RIDE_ORDERS = ("R20231122001234", "R20231121009876")
PARCELS = ("EA123456785CN",)
PHONES = ("13812345678", "13900001111")

GREETINGS = ("您好", "你好", "在吗", "在不在", "hi", "有人吗", "你好呀", "您好,请问")
THANKS = ("好的谢谢", "谢谢", "谢谢你", "好的,谢了", "多谢", "感谢", "ok 谢谢", "好滴谢谢")
BYES = ("再见", "没事了", "拜拜", "没事了谢谢", "就这样吧", "好的再见", "拜拜啦", "886")
AFFIRM = ("好的", "可以了", "嗯嗯好的", "行", "明白了", "好的,解决了")
#: demo phone -> one of its orders (identity is checked: an order must belong to the phone given)
OWN_ORDER = {"13812345678": "2023112215300012345", "13900001111": "2023112112000067890"}
FILLERS = ("", "", "", "请问", "麻烦问下", "那个", "你好,")
ENDINGS = ("", "", "", "?", "啊", "呢", "。", "!", " 🙏", "~")


def _food_order(rng: random.Random) -> str:
    if rng.random() < 0.4:
        return rng.choice(FOOD_ORDERS)
    return "202311" + "".join(rng.choice("0123456789") for _ in range(13))


def _ride_order(rng: random.Random) -> str:
    if rng.random() < 0.4:
        return rng.choice(RIDE_ORDERS)
    return "R202311" + "".join(rng.choice("0123456789") for _ in range(8))


def _say(rng: random.Random, wordings: Sequence[str], **values: str) -> str:
    text = rng.choice(wordings).format(**values)
    return rng.choice(FILLERS) + text + rng.choice(ENDINGS)


def _corrected(order: str, known: Sequence[str], rng: random.Random) -> List[Turn]:
    """An unknown number is not found: the customer sends the right one (a customer who gives up goes to a person)."""
    if order in known:
        return []
    return [("order again", _say(rng, ("不好意思,是{o}", "打错了,{o}", "应该是{o}", "{o}"), o=rng.choice(known)))]


def _food_status(rng: random.Random) -> List[Turn]:
    order = _food_order(rng)
    return [
        ("greet", rng.choice(GREETINGS)),
        ("status", _say(rng, ("我的外卖到哪了", "外卖怎么还没送到", "我点的饭到哪儿了", "查一下我的外卖", "骑手到哪了"))),
        ("order", _say(rng, ("订单号{o}", "{o}", "订单是{o}", "单号 {o}"), o=order)),
        *_corrected(order, FOOD_ORDERS, rng),
        ("thank", rng.choice(THANKS)),
        ("bye", rng.choice(BYES)),
    ]


def _parcel_status(rng: random.Random) -> List[Turn]:
    parcel = rng.choice(PARCELS)
    return [
        ("status", _say(rng, ("快递{p}到哪了", "帮我查下快递{p}", "包裹{p}怎么还没到", "{p} 这个件到哪了"), p=parcel)),
        ("thank", rng.choice(THANKS)),
        ("bye", rng.choice(BYES)),
    ]


def _ride_delay(rng: random.Random) -> List[Turn]:
    minutes = str(rng.randint(5, 40))
    return [
        ("greet", rng.choice(GREETINGS)),
        ("delay", _say(rng, ("司机怎么还没来,等了{m}分钟了", "等车等了{m}分钟司机还不到", "司机迟到{m}分钟了",
                             "叫的车{m}分钟了还没来"), m=minutes)),
        ("order", _say(rng, ("{o}", "订单号{o}", "行程单号是{o}"), o=(order := _ride_order(rng)))),
        *_corrected(order, RIDE_ORDERS, rng),
        ("affirm", rng.choice(AFFIRM)),
        ("bye", rng.choice(BYES)),
    ]


def _refund(rng: random.Random) -> List[Turn]:
    phone = rng.choice(PHONES)  # a customer of the demo database: two wrong numbers in a row go to a person
    return [
        ("refund", _say(rng, ("我要退款", "怎么退款", "申请退款", "这单我要退钱", "能退款吗"))),
        ("phone", _say(rng, ("{p}", "手机号{p}", "我的手机是{p}"), p=phone)),
        ("order", _say(rng, ("{o}", "订单号{o}"), o=OWN_ORDER[phone])),
        ("affirm", rng.choice(AFFIRM)),
        ("bye", rng.choice(BYES)),
    ]


def _invoice(rng: random.Random) -> List[Turn]:
    return [
        ("greet", rng.choice(GREETINGS)),
        ("invoice", _say(rng, ("帮我开个发票", "怎么开发票", "我要开票", "发票在哪里开", "能开电子发票吗"))),
        ("bye", rng.choice(BYES)),
    ]


FLOWS: Tuple[Callable[[random.Random], List[Turn]], ...] = (_food_status, _parcel_status, _ride_delay, _refund, _invoice)


def conversation(seed: int) -> List[Turn]:
    """The ``seed``-th simulated conversation: the same seed, the same words."""
    rng = random.Random(seed)
    return FLOWS[seed % len(FLOWS)](rng)


def repeat_share(count: int = 2000) -> Dict[str, float]:
    """How many customer messages repeat an earlier text exactly, in ``count`` conversations.

    An upper bound of the NLU parse cache's hit rate in a run of that many
    conversations (the cache keeps the 4096 most recent texts).
    """
    seen: set = set()
    turns = repeats = 0
    for seed in range(count):
        for _, text in conversation(seed):
            turns += 1
            repeats += text in seen
            seen.add(text)
    return {"turns": float(turns), "distinct": float(len(seen)), "repeated_share": repeats / max(1, turns)}


#: a fixed sample for warm-up and tests
CONVERSATIONS: List[List[Turn]] = [conversation(seed) for seed in range(10)]
