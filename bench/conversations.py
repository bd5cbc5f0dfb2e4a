"""The simulated customers' conversations (bench/locustfile.py, warm-up in bench/run.py).

Multi-turn, with real order look-ups against the seeded demo database
(scripts/seed_orders.py): order numbers, parcel numbers, phone numbers.
Kept apart from the locustfile so importing them does not import locust
(which monkey-patches the standard library with gevent).
"""
from typing import List, Tuple

CONVERSATIONS: List[List[Tuple[str, str]]] = [
    [("greet", "您好"), ("status", "我的外卖到哪了"), ("order", "订单号2023112215300012345"), ("thank", "好的谢谢"), ("bye", "再见")],
    [("status", "快递EA123456785CN到哪了"), ("thank", "谢谢"), ("bye", "没事了")],
    [("greet", "在吗"), ("delay", "司机怎么还没来,等了20分钟了"), ("order", "R20231122001234"), ("deny", "不用了"), ("bye", "拜拜")],
    [("refund", "我要退款"), ("phone", "13812345678"), ("order", "2023112215300012345"), ("deny", "算了不退了"), ("bye", "再见")],
    [("greet", "你好"), ("invoice", "帮我开个发票"), ("bye", "没事了谢谢")],
]
