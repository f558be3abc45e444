"""Reads of the shopping app: querysets with the visibility/owner policy (API.md §2.6).

The two reads of order creation (`order_address`, `order_cart_lines`) are single hand-written
SQL statements on the primary (`apps.shopping.sql`): order creation is the one write path under
load, and building an ORM query costs about 10× its round trip on the 2-core target
(bench/orders_profile.py).
"""

from collections.abc import Sequence
from typing import NamedTuple

from django.db import connection
from django.db.models import Prefetch, QuerySet

from apps.shopping import sql
from apps.shopping.models import Commodity, Order, OrderGoods, Payment, ShoppingCart

COMMODITY_ORDERINGS = ("price", "-price", "sales", "-sales", "-create_time")


def commodity_list(
    *, search: str | None = None, ordering: str | None = None
) -> QuerySet[Commodity]:
    """Live commodities, `search` = name icontains, `ordering` one of COMMODITY_ORDERINGS
    (validated by the caller; ties broken by id). Source: DB."""
    qs = Commodity.objects.filter(is_delete=False)
    if search:
        qs = qs.filter(name__icontains=search)
    if ordering:
        qs = qs.order_by(ordering, "-id")
    return qs


def cart_list_for_user(*, user) -> QuerySet[ShoppingCart]:
    """The caller's cart rows with their commodity (one query). Others' rows never appear."""
    return ShoppingCart.objects.filter(user=user).select_related("commodity")


def order_list_for_user(*, user, status: int | None = None) -> QuerySet[Order]:
    """The caller's orders, newest first, goods (with commodity) prefetched; optional `status`."""
    qs = Order.objects.filter(user=user).prefetch_related(
        Prefetch("goods", queryset=OrderGoods.objects.select_related("commodity"))
    )
    if status is not None:
        qs = qs.filter(status=status)
    return qs.order_by("-create_time", "-order_id")


def payment_list_for_user(*, user) -> QuerySet[Payment]:
    """Payments of the caller's orders, newest first."""
    return Payment.objects.filter(order__user=user)


def payment_trade_id(*, order_id: str) -> str | None:
    """The Alipay `trade_no` recorded for the order (first payment), or None while unpaid."""
    return (
        Payment.objects.filter(order_id=order_id)
        .order_by("create_time", "id")
        .values_list("trade_id", flat=True)
        .first()
    )


class AddressSnapshot(NamedTuple):
    """A caller's live address resolved for an order: `pk` and the API.md §2.6 step 4 text
    `"{province} {city} {district} {place} [{receiver}] {mobile}"` (as `Address.snapshot`)."""

    pk: int
    snapshot: str


class CartLine(NamedTuple):
    """One of the caller's cart rows resolved for an order (`number` 1–99)."""

    pk: int
    commodity_id: int
    number: int


def order_address(*, user_id: int, address_id: int) -> AddressSnapshot | None:
    """The caller's live address `address_id` with its snapshot text, else None (unknown,
    another user's or soft-deleted). One statement (address + its 3 areas) on the primary."""
    with connection.cursor() as cursor:
        cursor.execute(sql.statements(connection).address, [address_id, user_id, False])
        row = cursor.fetchone()
    if row is None:
        return None
    province, city, district, place, receiver, mobile = row
    return AddressSnapshot(
        address_id, f"{province} {city} {district} {place} [{receiver}] {mobile}"
    )


def order_cart_lines(*, user_id: int, ids: Sequence[int]) -> dict[int, CartLine]:
    """The caller's cart rows among `ids`, by id (others' and unknown ids are absent).
    One statement on the primary."""
    with connection.cursor() as cursor:
        cursor.execute(sql.statements(connection).cart_lines(len(ids)), [user_id, *ids])
        return {pk: CartLine(pk, commodity_id, number) for pk, commodity_id, number in cursor}
