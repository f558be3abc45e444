"""Order creation, cart merging and unpaid-order closing (API.md §2.6)."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import DataError, IntegrityError
from django.utils import timezone

from apps.shopping import services
from apps.shopping.exceptions import InsufficientStock
from apps.shopping.models import Commodity, Order, OrderGoods, ShoppingCart
from apps.shopping.services import cart_add, order_close_unpaid, order_create, orders_close_expired
from apps.shopping.tests.factories import (
    AddressFactory,
    CommodityFactory,
    ShoppingCartFactory,
    UserFactory,
)


@pytest.mark.django_db
def test_order_create_decrements_stock_snapshots_and_clears_cart(settings):
    settings.ORDER_FREIGHT = "6.00"
    user = UserFactory()
    address = AddressFactory(user=user)
    a = ShoppingCartFactory(
        user=user, commodity__price=Decimal("43.23"), commodity__stock=5, number=3
    )
    b = ShoppingCartFactory(
        user=user, commodity__price=Decimal("0.10"), commodity__stock=1, number=1
    )
    keep = ShoppingCartFactory(user=user)

    order = order_create(user=user, address=address, cart=[b, a], pay_method=Order.PayMethod.ALIPAY)

    assert re.fullmatch(r"\d{14}[0-9a-f]{18}", order.order_id)
    assert order.order_id[:14] == timezone.localtime(order.create_time).strftime("%Y%m%d%H%M%S")
    assert order.status == Order.Status.UNPAID
    assert order.total_count == 4
    assert order.freight == Decimal("6.00")
    assert order.total_amount == Decimal("43.23") * 3 + Decimal("0.10") + Decimal("6.00")
    assert order.address == address.snapshot
    a.commodity.refresh_from_db()
    b.commodity.refresh_from_db()
    assert (a.commodity.stock, a.commodity.sales) == (2, 3)
    assert (b.commodity.stock, b.commodity.sales) == (0, 1)
    lines = {g.commodity_id: (g.number, g.price) for g in order.goods.all()}
    assert lines == {a.commodity_id: (3, Decimal("43.23")), b.commodity_id: (1, Decimal("0.10"))}
    assert list(ShoppingCart.objects.filter(user=user)) == [keep]


@pytest.mark.django_db
def test_cash_order_starts_to_ship():
    user = UserFactory()
    row = ShoppingCartFactory(user=user)
    order = order_create(
        user=user, address=AddressFactory(user=user), cart=[row], pay_method=Order.PayMethod.CASH
    )
    assert order.status == Order.Status.TO_SHIP


@pytest.mark.django_db
def test_order_create_rolls_back_and_lists_every_short_commodity():
    user = UserFactory()
    ok = ShoppingCartFactory(user=user, commodity__stock=5, number=2)
    short = ShoppingCartFactory(user=user, commodity__stock=0, number=1)
    gone = ShoppingCartFactory(user=user, commodity__stock=9, commodity__is_delete=True, number=1)

    with pytest.raises(InsufficientStock) as exc:
        order_create(
            user=user,
            address=AddressFactory(user=user),
            cart=[ok, short, gone],
            pay_method=Order.PayMethod.ALIPAY,
        )

    assert exc.value.extra == {"commodity": sorted([short.commodity_id, gone.commodity_id])}
    ok.commodity.refresh_from_db()
    assert (ok.commodity.stock, ok.commodity.sales) == (5, 0)
    assert not Order.objects.exists()
    assert ShoppingCart.objects.filter(user=user).count() == 3


@pytest.mark.django_db
def test_order_id_collision_is_retried(monkeypatch):
    user = UserFactory()
    taken = order_create(
        user=user,
        address=AddressFactory(user=user),
        cart=[ShoppingCartFactory(user=user)],
        pay_method=Order.PayMethod.ALIPAY,
    )
    ids = iter([taken.order_id, taken.order_id, "20240501093000" + "f" * 18])
    monkeypatch.setattr(services, "new_order_id", lambda now=None: next(ids))

    order = order_create(
        user=user,
        address=AddressFactory(user=user),
        cart=[ShoppingCartFactory(user=user)],
        pay_method=Order.PayMethod.ALIPAY,
    )

    assert order.order_id == "20240501093000" + "f" * 18
    assert Order.objects.count() == 2


@pytest.mark.django_db
def test_order_id_collision_gives_up_after_three_attempts(monkeypatch):
    user = UserFactory()
    taken = order_create(
        user=user,
        address=AddressFactory(user=user),
        cart=[ShoppingCartFactory(user=user)],
        pay_method=Order.PayMethod.ALIPAY,
    )
    monkeypatch.setattr(services, "new_order_id", lambda now=None: taken.order_id)
    row = ShoppingCartFactory(user=user, commodity__stock=4, number=1)
    with pytest.raises(IntegrityError):
        order_create(
            user=user,
            address=AddressFactory(user=user),
            cart=[row],
            pay_method=Order.PayMethod.ALIPAY,
        )
    row.commodity.refresh_from_db()
    assert row.commodity.stock == 4  # the whole order rolled back


@pytest.mark.django_db
def test_cart_add_merges_and_caps_at_99():
    user = UserFactory()
    commodity = CommodityFactory()
    row, created = cart_add(user=user, commodity=commodity, number=60)
    assert created
    row, created = cart_add(user=user, commodity=commodity, number=60)
    assert not created
    assert row.number == 99
    assert ShoppingCart.objects.filter(user=user).count() == 1


def _unpaid_order(user, *, stock=10, number=3, age_seconds=3600):
    row = ShoppingCartFactory(user=user, commodity__stock=stock, number=number)
    order = order_create(
        user=user, address=AddressFactory(user=user), cart=[row], pay_method=Order.PayMethod.ALIPAY
    )
    Order.objects.filter(pk=order.pk).update(
        create_time=timezone.now() - timedelta(seconds=age_seconds)
    )
    return order, row.commodity


@pytest.mark.django_db
def test_close_unpaid_orders_restores_stock_exactly_once(settings):
    settings.ORDER_PAY_TIMEOUT = 1800
    user = UserFactory()
    old, commodity = _unpaid_order(user, stock=10, number=3)
    fresh, fresh_commodity = _unpaid_order(user, stock=10, number=2, age_seconds=60)
    commodity.refresh_from_db()
    assert (commodity.stock, commodity.sales) == (7, 3)

    assert orders_close_expired() == 1
    assert orders_close_expired() == 0  # second run: no-op
    assert order_close_unpaid(order_id=old.pk) is False

    commodity.refresh_from_db()
    fresh_commodity.refresh_from_db()
    assert (commodity.stock, commodity.sales) == (10, 0)
    assert (fresh_commodity.stock, fresh_commodity.sales) == (8, 2)
    assert Order.objects.get(pk=old.pk).status == Order.Status.CANCELLED
    assert Order.objects.get(pk=fresh.pk).status == Order.Status.UNPAID
    assert OrderGoods.objects.filter(order=old).count() == 1  # goods kept for the record


@pytest.mark.django_db
def test_close_leaves_paid_and_cash_orders_alone(settings):
    settings.ORDER_PAY_TIMEOUT = 1
    user = UserFactory()
    order, commodity = _unpaid_order(user, stock=5, number=1)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.TO_SHIP)
    assert orders_close_expired() == 0
    commodity.refresh_from_db()
    assert (commodity.stock, commodity.sales) == (4, 1)


@pytest.mark.django_db
def test_stock_check_constraint_holds_in_the_database():
    commodity = CommodityFactory(stock=1)
    with pytest.raises((IntegrityError, DataError)):  # MariaDB: UNSIGNED + CHECK
        Commodity.objects.filter(pk=commodity.pk).update(stock=-1)


class _Tokens:
    """Stands in for `secrets` in the services module: `token_hex` answers the given tokens."""

    def __init__(self, *tokens: str) -> None:
        self._tokens = iter(tokens)
        self.calls = 0

    def token_hex(self, nbytes: int) -> str:
        assert nbytes == 9
        self.calls += 1
        return next(self._tokens)


def _taken_ids(token: str) -> None:
    """Orders holding `stamp + token` for this second and the next (a run may cross one)."""
    user = UserFactory()
    now = timezone.now()
    for seconds in (0, 1):
        stamp = timezone.localtime(now + timedelta(seconds=seconds)).strftime("%Y%m%d%H%M%S")
        Order.objects.create(
            order_id=stamp + token, user=user, address="x", total_count=1,
            total_amount=Decimal("1.00"), pay_method=Order.PayMethod.ALIPAY,
            status=Order.Status.UNPAID,
        )  # fmt: skip


# transaction=True: order_create's atomic block is the real transaction (no test savepoint
# around it), so this checks that MariaDB/InnoDB and SQLite undo only the duplicate INSERT and
# keep the stock decrements of the same transaction (the retry takes no savepoint there).
@pytest.mark.django_db(transaction=True)
def test_order_id_collision_from_the_token_generator_is_retried_in_the_transaction(
    monkeypatch, caplog
):
    _taken_ids("a" * 18)
    user = UserFactory()
    rows = [
        ShoppingCartFactory(user=user, commodity__stock=5, number=2),
        ShoppingCartFactory(user=user, commodity__stock=3, number=1),
    ]
    tokens = _Tokens("a" * 18, "a" * 18, "b" * 18)
    monkeypatch.setattr(services, "secrets", tokens)

    order = order_create(
        user=user, address=AddressFactory(user=user), cart=rows, pay_method=Order.PayMethod.CASH
    )

    assert tokens.calls == 3
    assert order.order_id.endswith("b" * 18)
    assert caplog.text.count("order_id collision, retrying") == 2
    stored = Order.objects.get(pk=order.order_id)
    assert (stored.user_id, stored.total_count, stored.status) == (user.pk, 3, 2)
    assert sorted(stored.goods.values_list("commodity_id", "number")) == sorted(
        (r.commodity_id, r.number) for r in rows
    )
    stocks = dict(Commodity.objects.filter(pk__in=[r.commodity_id for r in rows]).values_list(
        "id", "stock"
    ))  # fmt: skip
    assert stocks == {rows[0].commodity_id: 3, rows[1].commodity_id: 2}  # decremented once
    assert not ShoppingCart.objects.filter(user=user).exists()
    assert Order.objects.count() == 3  # the two taken ids + this one


@pytest.mark.django_db(transaction=True)
def test_order_id_collisions_from_the_token_generator_give_up_and_roll_back(monkeypatch):
    _taken_ids("c" * 18)
    user = UserFactory()
    row = ShoppingCartFactory(user=user, commodity__stock=4, number=1)
    monkeypatch.setattr(services, "secrets", _Tokens(*["c" * 18] * 3))

    with pytest.raises(IntegrityError):
        order_create(
            user=user, address=AddressFactory(user=user), cart=[row],
            pay_method=Order.PayMethod.ALIPAY,
        )  # fmt: skip

    row.commodity.refresh_from_db()
    assert (row.commodity.stock, row.commodity.sales) == (4, 0)
    assert ShoppingCart.objects.filter(pk=row.pk).exists()
    assert Order.objects.count() == 2
