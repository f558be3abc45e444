"""Order creation edges found in review: a cart ordered twice at once, a total beyond the
`Decimal(10, 2)` column, and an address snapshot longer than the order's 255-character column."""

import threading
from collections import Counter
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from apps.shopping.models import Commodity, Order, OrderGoods, ShoppingCart
from apps.shopping.selectors import order_inputs
from apps.shopping.services import order_create
from apps.shopping.tests.factories import AddressFactory, CommodityFactory, ShoppingCartFactory
from apps.users.models import ADDRESS_SNAPSHOT_MAX, address_snapshot
from apps.users.tests.factories import (
    CityFactory,
    DistrictFactory,
    ProvinceFactory,
    UserFactory,
)

ORDERS = "/api/shopping/orders/"
SAME_CART_REQUESTS = 6


@pytest.mark.django_db(transaction=True)
def test_one_cart_ordered_by_concurrent_requests_makes_one_order(mariadb):
    """A double click: every request resolved the same cart row before any of them committed."""
    commodity = CommodityFactory(stock=10, sales=0)
    user = UserFactory()
    address = AddressFactory(user=user)
    row = ShoppingCartFactory(user=user, commodity=commodity, number=3)
    address_in, lines = order_inputs(user_id=user.pk, address_id=address.pk, cart_ids=[row.pk])
    barrier = threading.Barrier(SAME_CART_REQUESTS)
    outcomes: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def buy() -> None:
        try:
            barrier.wait(timeout=30)
            try:
                order_create(user=user, address=address_in, cart=[lines[row.pk]], pay_method=1)
                result = "ok"
            except ValidationError as exc:
                result = (
                    "gone"
                    if exc.message_dict
                    == {"cart": [f'Invalid pk "{row.pk}" - object does not exist.']}
                    else repr(exc.message_dict)
                )
            with lock:
                outcomes.append(result)
        except BaseException as exc:  # collected and asserted below
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=buy) for _ in range(SAME_CART_REQUESTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert Counter(outcomes) == {"ok": 1, "gone": SAME_CART_REQUESTS - 1}
    commodity.refresh_from_db()
    assert (commodity.stock, commodity.sales) == (7, 3)
    assert Order.objects.filter(user=user).count() == 1
    assert OrderGoods.objects.filter(commodity=commodity).count() == 1
    assert not ShoppingCart.objects.filter(user=user).exists()


@pytest.mark.django_db
def test_order_over_the_total_cap_is_400_and_changes_nothing(client_for):
    user = UserFactory()
    address = AddressFactory(user=user)
    row = ShoppingCartFactory(user=user, commodity__price=Decimal("60000000.00"), number=2)

    response = client_for(user).post(
        ORDERS, {"address": address.pk, "pay_method": 1, "cart": [row.pk]}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"cart": ["The order total must not exceed 99999999.99 yuan."]}
    assert Commodity.objects.get(pk=row.commodity_id).stock == 10
    assert ShoppingCart.objects.filter(pk=row.pk).exists()
    assert not Order.objects.filter(user=user).exists()
    assert client_for(user).get(ORDERS).status_code == 200


@pytest.mark.django_db
def test_order_at_the_total_cap_is_accepted(client_for):
    user = UserFactory()
    address = AddressFactory(user=user)
    row = ShoppingCartFactory(user=user, commodity__price=Decimal("99999999.99"), number=1)

    response = client_for(user).post(
        ORDERS, {"address": address.pk, "pay_method": 1, "cart": [row.pk]}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["total_amount"] == "99999999.99"


def _longest_address(user):
    province = ProvinceFactory(name="省" * 20)
    city = CityFactory(name="市" * 20, parent=province)
    district = DistrictFactory(name="区" * 20, parent=city)
    return AddressFactory(
        user=user, district=district, place="路" * 200, receiver="收" * 20, mobile="13900000000"
    )


@pytest.mark.django_db
def test_order_from_the_longest_valid_address_keeps_region_receiver_and_mobile(client_for):
    user = UserFactory()
    address = _longest_address(user)
    row = ShoppingCartFactory(user=user, number=1)

    response = client_for(user).post(
        ORDERS, {"address": address.pk, "pay_method": 2, "cart": [row.pk]}, format="json"
    )

    assert response.status_code == 201
    text = response.json()["address"]
    assert len(text) == ADDRESS_SNAPSHOT_MAX
    assert text.startswith(f"{'省' * 20} {'市' * 20} {'区' * 20} 路")
    assert text.endswith(f"路… [{'收' * 20}] 13900000000")
    assert Order.objects.get(user=user).address == text == address.snapshot


def test_address_snapshot_is_unchanged_when_it_fits():
    assert address_snapshot("北京市", "市辖区", "东城区", "幸福路1号", "张三", "13800000000") == (
        "北京市 市辖区 东城区 幸福路1号 [张三] 13800000000"
    )
    place = "x" * (ADDRESS_SNAPSHOT_MAX - len("a b c  [r] m"))  # fits exactly
    assert address_snapshot("a", "b", "c", place, "r", "m") == f"a b c {place} [r] m"
    assert len(address_snapshot("a", "b", "c", place + "y", "r", "m")) == ADDRESS_SNAPSHOT_MAX


def test_snapshot_limit_is_the_order_column():
    assert Order._meta.get_field("address").max_length == ADDRESS_SNAPSHOT_MAX
