import sqlite3
from datetime import datetime

import pytest

from actions import policy
from orders.validation import is_valid_s10

from .conftest import seed_orders


def test_seed_is_idempotent(tmp_path):
    path = tmp_path / "o.sqlite3"
    seed_orders.seed(path)
    seed_orders.seed(path)
    db = sqlite3.connect(path)
    assert db.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == 11
    assert db.execute("SELECT COUNT(*) FROM payments").fetchone()[0] == 11
    assert db.execute("SELECT COUNT(*) FROM records").fetchone()[0] == 1


def test_documented_demo_ids(svc):
    for order_id in ("2023112215300012345", "R20231122001234", "EA123456785CN"):
        assert svc.find_order(order_id).phone == "13812345678"
    for code in (seed_orders.PARCEL_A, seed_orders.PARCEL_B, seed_orders.PARCEL_C):
        assert is_valid_s10(code)
        assert code in seed_orders.__doc__
    assert len(svc.orders_for_phone("13812345678")) == 3
    assert len(svc.find_order("EA123456785CN").events) == 4


def test_seed_cli(tmp_path, capsys):
    assert seed_orders.main(["--db", str(tmp_path / "x.sqlite3")]) == 0
    assert "11 orders" in capsys.readouterr().out


def test_compensation_table():
    assert [policy.coupon_for_delay(m) for m in (5, 10, 25, 45, 90)] == [0, 3, 5, 10, 20]


def test_late_and_fees(svc):
    now = svc.now()
    food = svc.find_order("2023112215300012345")
    assert 44 <= policy.late_minutes(food, now) <= 46
    assert policy.refund_decision(food, now).eligible  # delivering but more than 30 min late
    ride = svc.find_order("R20231122001234")
    assert policy.ride_fare_waived(ride, policy.late_minutes(ride, now))
    assert policy.cancel_fee(ride, now) == 0.0  # late beyond the free-cancel threshold
    preparing = svc.find_order("2023112210150011111")
    assert policy.cancel_fee(preparing, now) == 6.0
    assert policy.can_change_info(preparing)
    assert policy.cancel_fee(svc.find_order("2023112112000067890"), now) is None
    big = svc.find_order("2023112018300099999")
    assert policy.refund_decision(big, now).reason == "over_limit"
    assert not policy.fee_check(svc.find_order("R20231121009876")).adds_up
    assert policy.fee_check(svc.find_order("R20231120004321")).adds_up


def test_complaint_deadlines():
    due = policy.complaint_due(datetime(2023, 11, 22, 10, 0))
    assert due["reply_by"] == datetime(2023, 11, 22, 12, 0)
    assert due["close_by"].day == 25 and due["callback_by"].day == 29


@pytest.mark.parametrize("hour,minute", [(0, 5), (1, 0), (12, 0), (19, 59), (20, 12), (23, 59)])
def test_the_demo_ride_is_yesterdays_and_the_newest_at_every_hour(hour, minute):
    """The conversations pick 刘先生's ride by "昨天的" and by "最近那次": at every hour the suite may
    run, the ride is on yesterday's date and is the newest of his orders (at 20:12 it was today's)."""
    now = datetime(2026, 12, 4, hour, minute)
    orders = [o for o in seed_orders.demo_orders(now) if o["phone"] == "13900001111"]
    ride = next(o for o in orders if o["order_id"] == "R20231121009876")
    created = datetime.fromisoformat(ride["created_at"])
    assert created.date() == datetime(2026, 12, 3).date()
    assert datetime.fromisoformat(ride["details"]["completed_at"]) <= now
    assert all(datetime.fromisoformat(o["created_at"]) < created for o in orders if o is not ride)
