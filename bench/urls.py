"""Bench-only URLconf (selected by `bench/orders_settings.py`, never by the product).

Adds `bench/hello/` (a bare Django JSON view: the ceiling) and `bench/seed-orders/` (the seed's
order creation: unbounded-style optimistic retry on the old stock value, bounded here by a
deadline so a livelock is reported as `stalled`) to the project's URLs.
"""

import time

from django.db import OperationalError, transaction
from django.http import JsonResponse
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.shopping import selectors, services
from apps.shopping.exceptions import InsufficientStock
from apps.shopping.models import Commodity, Order, OrderGoods, ShoppingCart
from apps.shopping.serializers import OrderCreateInputSerializer, OrderSerializer
from config.urls import urlpatterns as project_urlpatterns

STALL_SECONDS = 5.0  # a seed-style request spinning longer than this is counted as stalled


def hello(request):
    """The bare ceiling: no auth, no DB, a tiny JSON body."""
    return JsonResponse({"ok": True})


class Stalled(Exception):
    """The optimistic loop did not converge before the deadline."""


def seed_order_create(*, user, address, cart, pay_method, deadline: float) -> Order:
    """The seed's algorithm: per row, read stock, `UPDATE ... WHERE stock=<old>`, retry on 0."""
    with transaction.atomic():
        for row in cart:
            while True:  # seed: `while True` (bounded here only by `deadline`)
                if time.monotonic() > deadline:
                    raise Stalled
                commodity = Commodity.objects.get(pk=row.commodity_id)
                if commodity.stock < row.number:
                    raise InsufficientStock(commodity=[commodity.pk])
                updated = Commodity.objects.filter(pk=commodity.pk, stock=commodity.stock).update(
                    stock=commodity.stock - row.number, sales=commodity.sales + row.number
                )
                if updated:
                    break
        prices = dict(
            Commodity.objects.filter(pk__in=[r.commodity_id for r in cart]).values_list(
                "id", "price"
            )
        )
        total = sum(prices[r.commodity_id] * r.number for r in cart)
        order = Order.objects.create(
            order_id=services.new_order_id(),
            user=user,
            address=address.snapshot,
            total_count=sum(r.number for r in cart),
            total_amount=total,
            pay_method=pay_method,
            status=Order.Status.UNPAID,
        )
        for r in cart:
            OrderGoods.objects.create(
                order=order,
                commodity_id=r.commodity_id,
                number=r.number,
                price=prices[r.commodity_id],
            )
    ShoppingCart.objects.filter(pk__in=[r.pk for r in cart]).delete()  # seed: outside the tx
    return order


class SeedOrderView(APIView):
    """POST like `/api/shopping/orders/`, created the seed's way; failures are labelled."""

    throttle_classes: list = []

    def post(self, request):
        params = OrderCreateInputSerializer(data=request.data, context={"request": request})
        params.is_valid(raise_exception=True)
        try:
            order = seed_order_create(
                user=request.user,
                deadline=time.monotonic() + STALL_SECONDS,
                **params.validated_data,
            )
        except Stalled:
            return Response({"code": "stalled"}, status=503)
        except OperationalError as exc:
            code = {1205: "lock_wait_timeout", 1213: "deadlock"}.get(exc.args[0], "db_error")
            return Response({"code": code}, status=503)
        order = selectors.order_list_for_user(user=request.user).get(pk=order.pk)
        return Response(OrderSerializer(order).data, status=201)


urlpatterns = [
    path("bench/hello/", hello),
    path("bench/seed-orders/", SeedOrderView.as_view()),
    *project_urlpatterns,
]
