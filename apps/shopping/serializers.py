"""Serializers of the shopping app: output shapes and request validation (API.md §2.6)."""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.shopping import selectors
from apps.shopping.models import Commodity, Order, OrderGoods, Payment, ShoppingCart
from apps.shopping.selectors import COMMODITY_ORDERINGS

DOES_NOT_EXIST = serializers.PrimaryKeyRelatedField.default_error_messages["does_not_exist"]


def file_url(field_file, request) -> str | None:
    """Absolute URL of a stored file (storage URL made absolute with the request host)."""
    if not field_file:
        return None
    url = field_file.url
    if request is not None and not url.startswith(("http://", "https://")):
        return request.build_absolute_uri(url)
    return url


@extend_schema_field({"type": "string", "format": "uri", "nullable": True})
class ImageUrlField(serializers.Field):
    """Read-only: the stored image's absolute URL or null."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value):
        return file_url(value, self.context.get("request"))


class CommoditySerializer(serializers.ModelSerializer):
    """`{"id", "name", "description", "price": "59.90", "stock", "sales", "image", times}`."""

    name = serializers.CharField(min_length=1, max_length=100)
    description = serializers.CharField(
        max_length=5000, allow_null=True, allow_blank=True, required=False
    )
    price = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=Decimal("99999999.99"),
    )
    stock = serializers.IntegerField(min_value=0, max_value=2_147_483_647)
    image = ImageUrlField()

    class Meta:
        model = Commodity
        fields = [
            "id",
            "name",
            "description",
            "price",
            "stock",
            "sales",
            "image",
            "create_time",
            "update_time",
        ]
        read_only_fields = ["id", "sales", "image", "create_time", "update_time"]


class CommodityListQuerySerializer(serializers.Serializer):
    """`?search=` (name icontains) and `?ordering=` (whitelist; anything else → 400)."""

    search = serializers.CharField(required=False, allow_blank=True, max_length=100)
    ordering = serializers.ChoiceField(choices=COMMODITY_ORDERINGS, required=False)


class ImageUploadSerializer(serializers.Serializer):
    """multipart `file` (validated by `utils.images` in the service)."""

    file = serializers.FileField(allow_empty_file=False)


class CommodityBriefSerializer(serializers.ModelSerializer):
    """`{"id", "name", "price", "image", "stock"}` inside a cart row."""

    image = ImageUrlField()

    class Meta:
        model = Commodity
        fields = ["id", "name", "price", "image", "stock"]


class ShoppingCartSerializer(serializers.ModelSerializer):
    """Cart row: `{"id", "commodity", "commodity_detail", "number", times}`; `commodity` must be
    live on create and is fixed afterwards."""

    commodity = serializers.PrimaryKeyRelatedField(
        queryset=Commodity.objects.filter(is_delete=False)
    )
    commodity_detail = CommodityBriefSerializer(source="commodity", read_only=True)
    number = serializers.IntegerField(min_value=1, max_value=99)

    class Meta:
        model = ShoppingCart
        fields = ["id", "commodity", "commodity_detail", "number", "create_time", "update_time"]
        read_only_fields = ["id", "create_time", "update_time"]
        validators = []  # (user, commodity) repeats are merged by the service, not rejected


class CartNumberSerializer(serializers.Serializer):
    """PATCH body: `number` 1–99."""

    number = serializers.IntegerField(min_value=1, max_value=99)


class OrderGoodsSerializer(serializers.ModelSerializer):
    """`{"id", "commodity", "name", "image", "number", "price"}` (price = unit snapshot)."""

    name = serializers.CharField(source="commodity.name", read_only=True)
    image = ImageUrlField(source="commodity.image")

    class Meta:
        model = OrderGoods
        fields = ["id", "commodity", "name", "image", "number", "price"]


class OrderSerializer(serializers.ModelSerializer):
    """Order representation (API.md §2.6); every field is server-owned."""

    goods = OrderGoodsSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = [
            "order_id",
            "user",
            "address",
            "total_count",
            "total_amount",
            "freight",
            "pay_method",
            "status",
            "goods",
            "create_time",
            "update_time",
        ]
        read_only_fields = fields


_MONEY = serializers.DecimalField(max_digits=10, decimal_places=2)
_DATETIME = serializers.DateTimeField()


def order_data(order: Order, request) -> dict:
    """`OrderSerializer(order).data` for an order whose goods and their commodities are in
    memory (what `services.order_create` returns), built with the same field formatting but
    without DRF's per-call construction of two ModelSerializers (~2 ms of the ~4 ms an order
    costs on the 2-core target). `test_order_data_matches_order_serializer` keeps the two equal.
    """
    return {
        "order_id": order.order_id,
        "user": order.user_id,
        "address": order.address,
        "total_count": order.total_count,
        "total_amount": _MONEY.to_representation(order.total_amount),
        "freight": _MONEY.to_representation(order.freight),
        "pay_method": order.pay_method,
        "status": order.status,
        "goods": [
            {
                "id": line.pk,
                "commodity": line.commodity_id,
                "name": line.commodity.name,
                "image": file_url(line.commodity.image, request),
                "number": line.number,
                "price": _MONEY.to_representation(line.price),
            }
            for line in order.goods.all()
        ],
        "create_time": _DATETIME.to_representation(order.create_time),
        "update_time": _DATETIME.to_representation(order.update_time),
    }


class OrderListQuerySerializer(serializers.Serializer):
    """`?status=` 1–6."""

    status = serializers.ChoiceField(choices=Order.Status.choices, required=False)


ID_MAX = 2**63 - 1  # the largest primary key (BigAutoField, SQLite INTEGER)


@extend_schema_field({"type": "integer"})
class OwnRowIdField(serializers.Field):
    """An id of one of the caller's rows, resolved by the serializer's `validate()`: accepts an
    int (or int string) like `PrimaryKeyRelatedField`, with its error messages."""

    default_error_messages = serializers.PrimaryKeyRelatedField.default_error_messages

    def to_internal_value(self, data) -> int:
        if isinstance(data, bool) or not isinstance(data, (int, str)):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            value = int(data)
        except ValueError:
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 0 < value <= ID_MAX:  # no such row; a bigger int would overflow SQLite
            self.fail("does_not_exist", pk_value=value)
        return value

    def to_representation(self, value) -> int:
        return value


class OrderCreateInputSerializer(serializers.Serializer):
    """`address` (caller's live address), `pay_method` 1|2, `cart` 1–50 unique ids of the
    caller's cart rows. Foreign/unknown ids → 400 like nonexistent ones (API.md §1.5).

    `validated_data` = `{"address": AddressSnapshot, "pay_method": int, "cart": [CartLine]}`
    (`selectors.order_inputs`: one SQL statement, on the primary).
    """

    address = OwnRowIdField()
    pay_method = serializers.ChoiceField(choices=Order.PayMethod.choices)
    cart = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=ID_MAX), min_length=1, max_length=50
    )

    def validate_cart(self, ids: list[int]) -> list[int]:
        if len(set(ids)) != len(ids):
            raise serializers.ValidationError(_("Cart ids must be unique."))
        return ids

    def validate(self, attrs: dict) -> dict:
        """Resolve `address` and `cart` in the caller's rows (one statement); unknown or
        foreign ids → 400 on their field(s), both reported together."""
        user = self.context["request"].user
        address, rows = selectors.order_inputs(
            user_id=user.pk, address_id=attrs["address"], cart_ids=attrs["cart"]
        )
        errors = {}
        if address is None:
            errors["address"] = [DOES_NOT_EXIST.format(pk_value=attrs["address"])]
        missing = [pk for pk in attrs["cart"] if pk not in rows]
        if missing:
            errors["cart"] = [DOES_NOT_EXIST.format(pk_value=missing[0])]
        if errors:
            raise serializers.ValidationError(errors)
        return {**attrs, "address": address, "cart": [rows[pk] for pk in attrs["cart"]]}


class PaymentSerializer(serializers.ModelSerializer):
    """`{"id", "order": "<order_id>", "trade_id", "create_time"}`."""

    class Meta:
        model = Payment
        fields = ["id", "order", "trade_id", "create_time"]
        read_only_fields = fields


class PayUrlSerializer(serializers.Serializer):
    """`{"pay_url": "<absolute gateway URL>?<signed params>"}`."""

    pay_url = serializers.URLField()


class PaymentStatusSerializer(serializers.Serializer):
    """Return-endpoint report: `{"order_id", "status", "paid", "trade_id"}`."""

    order_id = serializers.CharField()
    status = serializers.IntegerField()
    paid = serializers.BooleanField()
    trade_id = serializers.CharField(allow_null=True)
