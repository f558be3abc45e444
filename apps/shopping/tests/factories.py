"""factory_boy factories of the shopping app (users/areas/addresses from the users app)."""

from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from apps.shopping.models import Commodity, Order, OrderGoods, Payment, ShoppingCart
from apps.users.tests.factories import AddressFactory, UserFactory

__all__ = [
    "AddressFactory",
    "CommodityFactory",
    "OrderFactory",
    "OrderGoodsFactory",
    "PaymentFactory",
    "ShoppingCartFactory",
    "UserFactory",
]


class CommodityFactory(DjangoModelFactory):
    """A live commodity with stock."""

    class Meta:
        model = Commodity

    name = factory.Sequence(lambda n: f"笔记本{n}")
    description = "A5 活页"
    price = Decimal("12.50")
    stock = 10
    sales = 0


class ShoppingCartFactory(DjangoModelFactory):
    """A cart row of `user` for a new commodity."""

    class Meta:
        model = ShoppingCart

    user = factory.SubFactory(UserFactory)
    commodity = factory.SubFactory(CommodityFactory)
    number = 1


class OrderFactory(DjangoModelFactory):
    """An unpaid Alipay order (no goods unless added); `total_amount` in yuan."""

    class Meta:
        model = Order

    order_id = factory.Sequence(lambda n: f"20240501093000{n:018x}")
    user = factory.SubFactory(UserFactory)
    address = "省 市 区 幸福路1号 [收件人] 13800000000"
    total_count = 1
    total_amount = Decimal("12.50")
    freight = Decimal("0.00")
    pay_method = Order.PayMethod.ALIPAY
    status = Order.Status.UNPAID


class OrderGoodsFactory(DjangoModelFactory):
    """One order line."""

    class Meta:
        model = OrderGoods

    order = factory.SubFactory(OrderFactory)
    commodity = factory.SubFactory(CommodityFactory)
    number = 1
    price = Decimal("12.50")


class PaymentFactory(DjangoModelFactory):
    """A recorded Alipay trade."""

    class Meta:
        model = Payment

    order = factory.SubFactory(OrderFactory)
    trade_id = factory.Sequence(lambda n: f"2024050122001{n:015d}")
