"""THE race (API.md §2.6 "Order creation"): 200 concurrent buyers, stock 50, real MariaDB.

Each buyer is a thread with its own DB connection; all start together behind a barrier. The
single conditional `UPDATE ... stock >= n` must sell exactly 50, never oversell, and never
deadlock. The elapsed time is printed (not asserted; figures belong in bench/orders.py).
"""

import threading
import time
from collections import Counter

import pytest
from django.db import connection

from apps.shopping.exceptions import InsufficientStock
from apps.shopping.models import Commodity, Order, OrderGoods, ShoppingCart
from apps.shopping.services import order_create
from apps.shopping.tests.factories import AddressFactory, CommodityFactory, ShoppingCartFactory
from apps.users.models import User
from apps.users.tests.factories import DistrictFactory

BUYERS = 200
STOCK = 50


@pytest.mark.django_db(transaction=True)
def test_200_buyers_for_stock_50_sell_exactly_50(mariadb):
    commodity = CommodityFactory(stock=STOCK, sales=0)
    district = DistrictFactory()
    users = User.objects.bulk_create(
        User(username=f"buyer{i}", password="!") for i in range(BUYERS)
    )
    jobs = []
    for user in users:
        address = AddressFactory(user=user, district=district)
        row = ShoppingCartFactory(user=user, commodity=commodity, number=1)
        jobs.append((user, address, row))

    barrier = threading.Barrier(BUYERS)
    outcomes: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def buy(user, address, row):
        try:
            barrier.wait(timeout=60)
            try:
                order_create(
                    user=user, address=address, cart=[row], pay_method=Order.PayMethod.ALIPAY
                )
                result = "ok"
            except InsufficientStock as exc:
                result = "short" if exc.extra == {"commodity": [commodity.pk]} else repr(exc.extra)
            with lock:
                outcomes.append(result)
        except BaseException as exc:  # collected and asserted below
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=buy, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    for thread in threads:
        thread.join(timeout=120)
    elapsed = time.perf_counter() - started

    print(f"\n200-for-50 race on MariaDB: {elapsed * 1000:.0f} ms")  # noqa: T201
    assert errors == []
    assert Counter(outcomes) == {"ok": STOCK, "short": BUYERS - STOCK}
    commodity.refresh_from_db()
    assert (commodity.stock, commodity.sales) == (0, STOCK)
    assert Order.objects.count() == STOCK
    assert OrderGoods.objects.filter(commodity=commodity).count() == STOCK
    assert ShoppingCart.objects.count() == BUYERS - STOCK  # winners' rows consumed only
    assert Commodity.objects.get(pk=commodity.pk).stock >= 0
