"""Admin pages for commodities, carts, orders (with goods) and payments."""

from django.contrib import admin

from apps.shopping.models import Commodity, Order, OrderGoods, Payment, ShoppingCart


@admin.register(Commodity)
class CommodityAdmin(admin.ModelAdmin):
    """Commodities (soft-deleted ones included, flagged by `is_delete`); `sales` read-only."""

    list_display = ("id", "name", "price", "stock", "sales", "is_delete", "update_time")
    list_filter = ("is_delete",)
    search_fields = ("name",)
    readonly_fields = ("sales", "create_time", "update_time")


@admin.register(ShoppingCart)
class ShoppingCartAdmin(admin.ModelAdmin):
    """Cart rows of all users."""

    list_display = ("id", "user", "commodity", "number", "update_time")
    raw_id_fields = ("user", "commodity")
    list_select_related = ("user", "commodity")


class OrderGoodsInline(admin.TabularInline):
    model = OrderGoods
    extra = 0
    can_delete = False
    raw_id_fields = ("commodity",)
    readonly_fields = ("commodity", "number", "price")


class PaymentInline(admin.TabularInline):
    model = Payment
    extra = 0
    can_delete = False
    readonly_fields = ("trade_id", "create_time")


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """Orders; money and status are changed only by services (notify, timeout), so read-only."""

    list_display = ("order_id", "user", "total_amount", "pay_method", "status", "create_time")
    list_filter = ("status", "pay_method")
    search_fields = ("order_id", "user__username")
    raw_id_fields = ("user",)
    list_select_related = ("user",)
    readonly_fields = (
        "order_id",
        "user",
        "address",
        "total_count",
        "total_amount",
        "freight",
        "pay_method",
        "status",
        "pay_started_at",
        "create_time",
        "update_time",
    )
    inlines = [OrderGoodsInline, PaymentInline]


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    """Alipay trades recorded by the notify handler / trade query."""

    list_display = ("id", "trade_id", "order", "create_time")
    search_fields = ("trade_id", "order__order_id")
    raw_id_fields = ("order",)
    readonly_fields = ("trade_id", "order", "create_time", "update_time")
