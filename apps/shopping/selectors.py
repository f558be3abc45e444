"""Reads of the shopping app: querysets with the visibility/owner policy (API.md §2.6).

The read of order creation (`order_inputs`: address and cart rows) is one hand-written SQL
statement on the primary (`apps.shopping.sql`): order creation is the one write path under load,
and building an ORM query costs about 10× its round trip on the 2-core target
(bench/orders_profile.py).
"""

from collections.abc import Sequence
from typing import NamedTuple

from django.db import connection
from django.db.models import Prefetch, QuerySet

from apps.shopping import sql
from apps.shopping.models import Commodity, Order, OrderGoods, Payment, ShoppingCart
from apps.users.models import address_snapshot

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
    `"{province} {city} {district} {place} [{receiver}] {mobile}"` (`address_snapshot`, as
    `Address.snapshot`: ≤255 characters)."""

    pk: int
    snapshot: str


class CartLine(NamedTuple):
    """One of the caller's cart rows resolved for an order (`number` 1–99)."""

    pk: int
    commodity_id: int
    number: int


def order_inputs(
    *, user_id: int, address_id: int, cart_ids: Sequence[int]
) -> tuple[AddressSnapshot | None, dict[int, CartLine]]:
    """Resolve an order request within the caller's own rows (API.md §2.6 step 1): the live
    address `address_id` with its snapshot text (None if unknown, another user's or deleted) and
    the cart rows among `cart_ids`, by id (others' and unknown ids absent). One SQL statement,
    on the primary (the rows are about to be written)."""
    with connection.cursor() as cursor:
        cursor.execute(
            sql.statements(connection).order_inputs(len(cart_ids)),
            [address_id, user_id, False, user_id, *cart_ids],
        )
        rows = cursor.fetchall()
    province, city, district, place, receiver, mobile = rows[0][:6]
    address = None
    if place is not None:
        address = AddressSnapshot(
            address_id, address_snapshot(province, city, district, place, receiver, mobile)
        )
    lines = {row[6]: CartLine(*row[6:]) for row in rows if row[6] is not None}
    return address, lines
