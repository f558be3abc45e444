"""Reads of the shopping app: querysets with the visibility/owner policy (API.md §2.6)."""

from django.db.models import Prefetch, QuerySet

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
