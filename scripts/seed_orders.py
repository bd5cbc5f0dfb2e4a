"""Seed the demo order database (idempotent: re-running resets the demo rows).

    python scripts/seed_orders.py [--db PATH]

Default path: $KEFU_ORDERS_DB, else $KEFU_DATA_DIR/orders.sqlite3, else
var/orders.sqlite3. Times are relative to the moment of seeding, so a late
order is always "45 minutes late" right after seeding.

Demo customers and orders (use these in tests, demos and the README):

陈女士 13812345678
  2023112215300012345  外卖, 配送中, 承诺送达已过 45 分钟 (迟到补偿 / 退款)
  R20231122001234      打车, 司机已接单在路上, 已迟到 25 分钟 (免车费 / 改派)
  EA123456785CN        快递, 运输中 (查询轨迹)
刘先生 13900001111
  R20231121009876      打车, 已完成, 收费明细对不上 (费用争议 → 人工核查)
  2023112112000067890  外卖, 已送达, 汤洒了 (餐损理赔 / 退款 / 发票)
  EB000000014CN        快递, 已签收, 外包装破损, 保价 1500 元 (超额 → 人工)
  2023112018300099999  外卖, 已送达, 团餐 268 元 (退款超过自动退款上限 → 人工)
周女士 13700002222
  2023112209000054321  外卖, 付款成功但订单显示支付失败 (已付未成单 → 退款)
  R20231120004321      打车, 已完成, 重复扣款两次 32 元 (退回重复扣款)
  EC000000028CN        快递, 待揽收 (可修改地址 / 免费取消)
  2023112210150011111  外卖, 商家制作中 (可改地址 / 取消收 6 元)
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any, Dict, List, Optional

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from orders.service import SqliteOrderService, default_db_path  # noqa: E402
from orders.validation import s10_check_digit  # noqa: E402


def s10(prefix: str, serial: str, country: str = "CN") -> str:
    """A valid UPU S10 number: prefix + 8-digit serial + check digit + country."""
    return f"{prefix}{serial}{s10_check_digit(serial)}{country}"


PARCEL_A = s10("EA", "12345678")  # EA123456785CN
PARCEL_B = s10("EB", "00000001")  # EB000000014CN
PARCEL_C = s10("EC", "00000002")  # EC000000028CN

CUSTOMERS = {
    "13812345678": "陈女士",
    "13900001111": "刘先生",
    "13700002222": "周女士",
}


def _yesterdays_ride(now: datetime) -> float:
    """Minutes from ``now`` to 刘先生's ride: 20 hours ago, but never later than 23:00 yesterday.

    Customers pick it by "昨天的" (tests/conversations/scenarios/selection.yml): from 20:00 on,
    20 hours ago is already today. It stays his newest order (川味小馆 is 26 hours ago).
    """
    latest = datetime.combine(now.date() - timedelta(days=1), time(23, 0))
    return -(now - min(now - timedelta(hours=20), latest)).total_seconds() / 60


def demo_orders(now: datetime) -> List[Dict[str, Any]]:
    def at(minutes: float) -> str:
        return (now + timedelta(minutes=minutes)).replace(microsecond=0).isoformat()

    ride = _yesterdays_ride(now)

    return [
        {
            "order_id": "2023112215300012345", "order_type": "food", "phone": "13812345678",
            "status": "delivering", "created_at": at(-95), "amount": 38.5,
            "details": {
                "merchant": "老街牛肉面", "rider": "王师傅", "rider_phone": "13600001234",
                "items": [{"name": "红烧牛肉面", "qty": 1, "price": 28.0}, {"name": "卤蛋", "qty": 2, "price": 3.0}],
                "delivery_fee": 3.5, "packing_fee": 1.0, "discount": 0.0,
                "promised_at": at(-45), "eta_minutes": 10, "address": "朝阳区望京街9号",
                "standby": {"name": "赵师傅", "eta_minutes": 15},
            },
            "payments": [("P1001", 38.5, "success", "微信支付", at(-95))],
        },
        {
            "order_id": "R20231122001234", "order_type": "ride", "phone": "13812345678",
            "status": "accepted", "created_at": at(-35), "amount": 46.0,
            "details": {
                "driver": "李师傅", "plate": "京A12345", "car": "白色大众朗逸",
                "pickup": "望京SOHO", "dropoff": "首都机场T3",
                "accepted_at": at(-33), "promised_pickup_at": at(-25), "eta_minutes": 5,
                "fare": {"base": 13.0, "distance_km": 24.0, "distance_fee": 28.0, "duration_min": 35,
                         "duration_fee": 5.0, "surcharges": {"高速费": 0.0}},
                "standby": {"name": "孙师傅", "plate": "京B67890", "car": "黑色丰田凯美瑞", "eta_minutes": 6},
            },
            "payments": [],
        },
        {
            "order_id": PARCEL_A, "order_type": "parcel", "phone": "13812345678",
            "status": "in_transit", "created_at": at(-60 * 30), "amount": 18.0,
            "details": {
                "sender_city": "广州", "receiver_city": "北京", "weight_kg": 1.2, "shipping_fee": 18.0,
                "declared_value": 0, "promised_at": at(60 * 20), "courier": "EMS",
            },
            "events": [
                (at(-60 * 29), "广州", "快递员已揽收"),
                (at(-60 * 24), "广州", "已到达广州处理中心"),
                (at(-60 * 20), "广州", "已从广州处理中心发出,发往北京"),
                (at(-60 * 3), "北京", "已到达北京处理中心"),
            ],
            "payments": [("P1002", 18.0, "success", "支付宝", at(-60 * 30))],
        },
        {
            "order_id": "R20231121009876", "order_type": "ride", "phone": "13900001111",
            "status": "completed", "created_at": at(ride), "amount": 86.0,
            "details": {
                "driver": "周师傅", "plate": "粤B·D12345", "car": "蓝色比亚迪秦",
                "pickup": "深圳北站", "dropoff": "南山科技园", "completed_at": at(ride + 60),
                "fare": {"base": 12.0, "distance_km": 21.0, "distance_fee": 42.0, "duration_min": 40,
                         "duration_fee": 14.0, "surcharges": {"夜间服务费": 0.0}},
            },
            "payments": [("P2001", 86.0, "success", "微信支付", at(ride + 60))],
        },
        {
            "order_id": "2023112112000067890", "order_type": "food", "phone": "13900001111",
            "status": "delivered", "created_at": at(-60 * 26), "amount": 52.0,
            "details": {
                "merchant": "川味小馆", "rider": "钱师傅",
                "items": [{"name": "酸菜鱼", "qty": 1, "price": 38.0}, {"name": "酸辣汤", "qty": 1, "price": 8.0},
                          {"name": "米饭", "qty": 2, "price": 2.0}],
                "delivery_fee": 2.0, "packing_fee": 0.0, "discount": 0.0,
                "promised_at": at(-60 * 25), "delivered_at": at(-60 * 25 - 5),
            },
            "payments": [("P2002", 52.0, "success", "支付宝", at(-60 * 26))],
        },
        {
            "order_id": PARCEL_B, "order_type": "parcel", "phone": "13900001111",
            "status": "delivered", "created_at": at(-60 * 72), "amount": 25.0,
            "details": {
                "sender_city": "上海", "receiver_city": "深圳", "weight_kg": 3.5, "shipping_fee": 25.0,
                "declared_value": 1500, "item": "陶瓷茶具一套", "promised_at": at(-60 * 24),
                "delivered_at": at(-60 * 26), "courier": "EMS",
            },
            "events": [
                (at(-60 * 71), "上海", "快递员已揽收"),
                (at(-60 * 50), "上海", "已从上海处理中心发出"),
                (at(-60 * 30), "深圳", "正在派送,快递员:黄师傅"),
                (at(-60 * 26), "深圳", "已签收,签收人:本人"),
            ],
            "payments": [("P2003", 25.0, "success", "微信支付", at(-60 * 72))],
        },
        {
            "order_id": "2023112018300099999", "order_type": "food", "phone": "13900001111",
            "status": "delivered", "created_at": at(-60 * 48), "amount": 268.0,
            "details": {
                "merchant": "海底捞外送", "rider": "冯师傅",
                "items": [{"name": "火锅套餐(6人)", "qty": 1, "price": 258.0}],
                "delivery_fee": 10.0, "packing_fee": 0.0, "discount": 0.0,
                "promised_at": at(-60 * 47), "delivered_at": at(-60 * 47 - 10),
            },
            "payments": [("P2004", 268.0, "success", "银行卡", at(-60 * 48))],
        },
        {
            "order_id": "2023112209000054321", "order_type": "food", "phone": "13700002222",
            "status": "payment_failed", "created_at": at(-50), "amount": 26.0,
            "details": {
                "merchant": "早安包子铺", "items": [{"name": "鲜肉包", "qty": 4, "price": 5.0},
                                                    {"name": "豆浆", "qty": 2, "price": 3.0}],
                "delivery_fee": 0.0, "packing_fee": 0.0, "discount": 0.0,
            },
            "payments": [("P3001", 26.0, "success", "微信支付", at(-50))],
        },
        {
            "order_id": "R20231120004321", "order_type": "ride", "phone": "13700002222",
            "status": "completed", "created_at": at(-60 * 44), "amount": 32.0,
            "details": {
                "driver": "吴师傅", "plate": "沪C88888", "car": "白色吉利帝豪",
                "pickup": "人民广场", "dropoff": "虹桥火车站", "completed_at": at(-60 * 43),
                "fare": {"base": 10.0, "distance_km": 15.0, "distance_fee": 18.0, "duration_min": 28,
                         "duration_fee": 4.0, "surcharges": {}},
            },
            "payments": [("P3002", 32.0, "success", "微信支付", at(-60 * 43)),
                         ("P3003", 32.0, "success", "微信支付", at(-60 * 43 + 1))],
        },
        {
            "order_id": PARCEL_C, "order_type": "parcel", "phone": "13700002222",
            "status": "created", "created_at": at(-40), "amount": 12.0,
            "details": {
                "sender_city": "杭州", "receiver_city": "南京", "weight_kg": 0.8, "shipping_fee": 12.0,
                "declared_value": 0, "pickup_window": "今天 16:00-18:00", "courier": "EMS",
            },
            "events": [],
            "payments": [("P3004", 12.0, "success", "支付宝", at(-40))],
        },
        {
            "order_id": "2023112210150011111", "order_type": "food", "phone": "13700002222",
            "status": "preparing", "created_at": at(-8), "amount": 45.0,
            "details": {
                "merchant": "绿茶餐厅", "rider": None,
                "items": [{"name": "面包诱惑", "qty": 1, "price": 22.0}, {"name": "绿茶烤肉", "qty": 1, "price": 20.0}],
                "delivery_fee": 3.0, "packing_fee": 0.0, "discount": 0.0,
                "promised_at": at(30), "eta_minutes": 30, "address": "西湖区文三路100号",
                "standby": {"name": "郑师傅", "eta_minutes": 28},
            },
            "payments": [("P3005", 45.0, "success", "微信支付", at(-8))],
        },
    ]


def seed(db_path: Optional[Path] = None, now: Optional[datetime] = None) -> Path:
    """Create the schema and (re)write the demo rows; returns the database path."""
    service = SqliteOrderService(db_path)
    now = (now or datetime.now()).replace(microsecond=0)
    orders = demo_orders(now)
    ids = [o["order_id"] for o in orders]
    marks = ",".join("?" * len(ids))
    with service._connect() as db:  # noqa: SLF001 - the seed owns the schema
        for phone, name in CUSTOMERS.items():
            db.execute("INSERT OR REPLACE INTO customers (phone, name) VALUES (?, ?)", (phone, name))
        for table in ("tracking_events", "payments", "records"):
            db.execute(f"DELETE FROM {table} WHERE order_id IN ({marks})", ids)
        for order in orders:
            db.execute(
                "INSERT OR REPLACE INTO orders (order_id, order_type, phone, status, created_at, amount, details)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (order["order_id"], order["order_type"], order["phone"], order["status"], order["created_at"],
                 order["amount"], json.dumps(order["details"], ensure_ascii=False)),
            )
            for event_at, place, description in order.get("events", []):
                db.execute("INSERT INTO tracking_events (order_id, at, place, description) VALUES (?, ?, ?, ?)",
                           (order["order_id"], event_at, place, description))
            for payment_id, amount, status, channel, paid_at in order.get("payments", []):
                db.execute("INSERT OR REPLACE INTO payments (payment_id, order_id, amount, status, channel, paid_at)"
                           " VALUES (?, ?, ?, ?, ?, ?)", (payment_id, order["order_id"], amount, status, channel, paid_at))
        # a refund already in progress, so "where is my refund" has an answer
        db.execute(
            "INSERT INTO records (record_id, kind, order_id, amount, status, data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            ("RF20231121SEED01", "refund", "2023112112000067890", 8.0, "processing",
             json.dumps({"reason": "酸辣汤少送"}, ensure_ascii=False), (now - timedelta(hours=20)).isoformat()),
        )
    return service.path


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=None, help=f"SQLite file (default {default_db_path()})")
    args = parser.parse_args(argv)
    path = seed(args.db)
    print(f"seeded {len(CUSTOMERS)} customers, {len(demo_orders(datetime.now()))} orders into {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
