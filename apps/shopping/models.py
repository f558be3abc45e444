"""Commodities, shopping carts, orders, order goods and Alipay payments (API.md §3)."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from utils.models import DateTimeModelsMixin, ModelsSetMixin


class Commodity(ModelsSetMixin):
    """A study good on sale; `stock` never goes below 0 (DB check), `sales` is server-owned."""

    name = models.CharField(max_length=100, verbose_name="名称")
    description = models.TextField(null=True, blank=True, verbose_name="描述")  # noqa: DJ001
    price = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
        verbose_name="单价（元）",
    )
    stock = models.PositiveIntegerField(default=0, verbose_name="库存")
    sales = models.PositiveIntegerField(default=0, verbose_name="销量")
    # storage file id (FastDFS in production); rendered as an absolute URL
    image = models.ImageField(
        max_length=255, upload_to="commodity/", null=True, blank=True, verbose_name="图片"
    )

    class Meta:
        db_table = "commodity"
        verbose_name = "商品"
        verbose_name_plural = verbose_name
        ordering = ["-create_time", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(stock__gte=0), name="commodity_stock_gte_0"),
            models.CheckConstraint(condition=models.Q(sales__gte=0), name="commodity_sales_gte_0"),
            models.CheckConstraint(
                condition=models.Q(price__gte=Decimal("0.01")), name="commodity_price_gte_0_01"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ShoppingCart(DateTimeModelsMixin):
    """One commodity in a user's cart; `number` 1–99, one row per (user, commodity)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cart_rows"
    )
    commodity = models.ForeignKey(Commodity, on_delete=models.CASCADE, related_name="+")
    number = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(99)], verbose_name="数量"
    )

    class Meta:
        db_table = "shopping_cart"
        verbose_name = "购物车"
        verbose_name_plural = verbose_name
        ordering = ["-update_time", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "commodity"], name="shopping_cart_user_commodity"
            ),
            models.CheckConstraint(
                condition=models.Q(number__gte=1, number__lte=99), name="shopping_cart_number_1_99"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.commodity_id} × {self.number}"


class Order(DateTimeModelsMixin):
    """An order (PK `order_id`, the Alipay `out_trade_no`); money in yuan.

    Status moves: UNPAID → TO_SHIP by a verified notify or trade query; UNPAID → CANCELLED by the
    pay timeout (stock restored once). Cash on delivery starts at TO_SHIP.
    """

    class PayMethod(models.IntegerChoices):
        ALIPAY = 1, "支付宝"
        CASH = 2, "货到付款"

    class Status(models.IntegerChoices):
        UNPAID = 1, "待支付"
        TO_SHIP = 2, "待发货"
        TO_RECEIVE = 3, "待收货"
        TO_REVIEW = 4, "待评价"
        COMPLETED = 5, "已完成"
        CANCELLED = 6, "已取消"

    order_id = models.CharField(max_length=32, primary_key=True, verbose_name="订单号")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="orders"
    )
    address = models.CharField(max_length=255, verbose_name="收货地址快照")
    total_count = models.PositiveIntegerField(verbose_name="商品总数")
    total_amount = models.DecimalField(max_digits=10, decimal_places=2, verbose_name="总金额（元）")
    freight = models.DecimalField(
        max_digits=10, decimal_places=2, default=Decimal("0.00"), verbose_name="运费（元）"
    )
    pay_method = models.PositiveSmallIntegerField(
        choices=PayMethod.choices, verbose_name="支付方式"
    )
    status = models.PositiveSmallIntegerField(choices=Status.choices, verbose_name="订单状态")
    pay_started_at = models.DateTimeField(null=True, blank=True, verbose_name="发起支付时间")

    class Meta:
        db_table = "orders"
        verbose_name = "订单"
        verbose_name_plural = verbose_name
        ordering = ["-create_time", "-order_id"]
        indexes = [
            models.Index(fields=["user", "-create_time"], name="orders_user_created"),
            models.Index(fields=["status", "create_time"], name="orders_status_created"),
        ]

    def __str__(self) -> str:
        return self.order_id


class OrderGoods(DateTimeModelsMixin):
    """One line of an order: commodity, `number` and the unit `price` snapshot (yuan)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="goods")
    commodity = models.ForeignKey(Commodity, on_delete=models.PROTECT, related_name="+")
    number = models.PositiveIntegerField(verbose_name="数量")
    price = models.DecimalField(max_digits=10, decimal_places=2, verbose_name="单价快照（元）")

    class Meta:
        db_table = "order_goods"
        verbose_name = "订单商品"
        verbose_name_plural = verbose_name
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.commodity_id} × {self.number}"


class Payment(DateTimeModelsMixin):
    """An Alipay trade that paid an order; `trade_id` is Alipay's `trade_no` (unique)."""

    trade_id = models.CharField(max_length=100, unique=True, verbose_name="支付宝交易号")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="payments")

    class Meta:
        db_table = "payment"
        verbose_name = "支付记录"
        verbose_name_plural = verbose_name
        ordering = ["-create_time", "-id"]

    def __str__(self) -> str:
        return self.trade_id
