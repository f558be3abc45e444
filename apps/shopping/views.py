"""Thin views of the shopping app (API.md §2.6): validate, call a selector/service, render."""

import logging
from functools import partial

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.cache import patch_cache_control
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework import serializers as drf_serializers
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.shopping import alipay, selectors, serializers, services, tasks
from apps.shopping.exceptions import PaymentRejected, PaymentUnavailable
from apps.shopping.models import Order, Payment, ShoppingCart
from apps.shopping.permissions import IsStaffOrReadOnly
from apps.users.roles import IsStaff
from utils.cache import VersionedCacheResponseMixin, VisibilityKeyConstructor
from utils.throttling import UserRateThrottle

logger = logging.getLogger(__name__)


class PrivateNoStoreMixin:
    """Owner-scoped responses: `Cache-Control: private, no-store` (API.md §1.7)."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        patch_cache_control(response, private=True, no_store=True)
        return response


class CommodityViewSet(VersionedCacheResponseMixin, viewsets.ModelViewSet):
    """Commodities: everyone authenticated reads (cached per role + version), staff write."""

    serializer_class = serializers.CommoditySerializer
    permission_classes = [IsStaffOrReadOnly]
    list_cache_key_func = VisibilityKeyConstructor()
    object_cache_key_func = VisibilityKeyConstructor()
    cache_namespaces = (services.COMMODITY_CACHE_NAMESPACE,)

    def get_queryset(self):
        if self.action == "list":
            params = serializers.CommodityListQuerySerializer(data=self.request.query_params)
            params.is_valid(raise_exception=True)
            return selectors.commodity_list(**params.validated_data)
        return selectors.commodity_list()

    def create(self, request, *args, **kwargs):
        params = self.get_serializer(data=request.data)
        params.is_valid(raise_exception=True)
        commodity = services.commodity_create(data=params.validated_data)
        return Response(self.get_serializer(commodity).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        commodity = self.get_object()
        params = self.get_serializer(commodity, data=request.data, partial=kwargs.get("partial"))
        params.is_valid(raise_exception=True)
        commodity = services.commodity_update(commodity=commodity, data=params.validated_data)
        return Response(self.get_serializer(commodity).data)

    def destroy(self, request, *args, **kwargs):
        services.commodity_delete(commodity=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=serializers.ImageUploadSerializer,
        responses=inline_serializer(
            "CommodityImageResponse", {"image": drf_serializers.URLField()}
        ),
    )
    @action(
        detail=True,
        methods=["post"],
        permission_classes=[IsStaff],
        parser_classes=[MultiPartParser],
    )
    def image(self, request, pk=None):
        """Upload the commodity image (multipart `file`, API.md §1.8) → `{"image": url}`."""
        commodity = self.get_object()
        params = serializers.ImageUploadSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            commodity = services.commodity_set_image(
                commodity=commodity, file=params.validated_data["file"]
            )
        except DjangoValidationError as exc:
            raise exceptions.ValidationError({"file": exc.messages}) from exc
        return Response({"image": serializers.file_url(commodity.image, request)})


class ShoppingCartViewSet(
    PrivateNoStoreMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    """The caller's cart rows (others' → 404). POST merges repeats (200) or creates (201)."""

    serializer_class = serializers.ShoppingCartSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return ShoppingCart.objects.none()
        return selectors.cart_list_for_user(user=self.request.user)

    def create(self, request, *args, **kwargs):
        params = self.get_serializer(data=request.data)
        params.is_valid(raise_exception=True)
        row, created = services.cart_add(user=request.user, **params.validated_data)
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(self.get_serializer(row).data, status=code)

    @extend_schema(request=serializers.CartNumberSerializer)
    def partial_update(self, request, *args, **kwargs):
        row = self.get_object()
        params = serializers.CartNumberSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        row = services.cart_update(row=row, number=params.validated_data["number"])
        return Response(self.get_serializer(row).data)

    def perform_destroy(self, instance):
        services.cart_delete(row=instance)


class OrderCreateThrottle(UserRateThrottle):
    """`order_create` scope (20/min per user, API.md §1.6)."""

    scope = "order_create"


class OrderViewSet(PrivateNoStoreMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """The caller's orders by `order_id` (others' → 404); no update/delete (405)."""

    serializer_class = serializers.OrderSerializer
    lookup_field = "order_id"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Order.objects.none()
        status_filter = None
        if self.action == "list":
            params = serializers.OrderListQuerySerializer(data=self.request.query_params)
            params.is_valid(raise_exception=True)
            status_filter = params.validated_data.get("status")
        return selectors.order_list_for_user(user=self.request.user, status=status_filter)

    def get_throttles(self):
        throttles = super().get_throttles()
        if self.action == "create":
            throttles.append(OrderCreateThrottle())
        return throttles

    @extend_schema(request=serializers.OrderCreateInputSerializer)
    def create(self, request, *args, **kwargs):
        params = serializers.OrderCreateInputSerializer(
            data=request.data, context={"request": request}
        )
        params.is_valid(raise_exception=True)  # address/cart ids resolved in the caller's rows
        try:
            order = services.order_create(user=request.user, **params.validated_data)
        except DjangoValidationError as exc:  # cart rows taken by a concurrent order, total cap
            raise exceptions.ValidationError(exc.message_dict) from None
        if any(line.pk is None for line in order.goods.all()):  # backend without RETURNING
            order = self.get_queryset().get(pk=order.pk)
        return Response(serializers.order_data(order, request), status=status.HTTP_201_CREATED)

    @extend_schema(responses=serializers.PaymentStatusSerializer)
    @action(detail=False, methods=["get", "put"], url_path="status")
    def payment_status(self, request):
        """Alipay synchronous return: verify the signed query, report what the notify recorded.

        Missing `sign`/`out_trade_no` → 400; bad signature → 403; not the caller's → 404.
        Changes nothing; an unpaid order gets a trade query enqueued (settles like a notify).
        """
        params = request.query_params.dict()
        missing = {
            k: ["This field is required."] for k in ("sign", "out_trade_no") if not params.get(k)
        }
        if missing:
            raise exceptions.ValidationError(missing)
        if not alipay.verify_params(params):
            raise exceptions.PermissionDenied()
        order = get_object_or_404(
            selectors.order_list_for_user(user=request.user), pk=params["out_trade_no"]
        )
        trade_id = selectors.payment_trade_id(order_id=order.pk)
        if order.status == Order.Status.UNPAID and trade_id is None:
            transaction.on_commit(partial(tasks.query_payment.delay, order.pk))
        body = {
            "order_id": order.pk,
            "status": order.status,
            "paid": trade_id is not None,
            "trade_id": trade_id,
        }
        return Response(serializers.PaymentStatusSerializer(body).data)


class PaymentViewSet(PrivateNoStoreMixin, viewsets.ReadOnlyModelViewSet):
    """Payments of the caller's orders (read-only; created only by notify/trade query)."""

    serializer_class = serializers.PaymentSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Payment.objects.none()
        return selectors.payment_list_for_user(user=self.request.user)


class PayView(PrivateNoStoreMixin, APIView):
    """`GET payment/<order_id>/pay/` → `{"pay_url"}` for the caller's unpaid Alipay order.

    Unknown/others' order → 404; not payable → 409 `order_not_payable`.
    """

    @extend_schema(responses=serializers.PayUrlSerializer)
    def get(self, request, order_id: str):
        order = get_object_or_404(selectors.order_list_for_user(user=request.user), pk=order_id)
        pay_url = services.payment_start(order=order, request=request)
        return Response({"pay_url": pay_url})


class NotifyView(APIView):
    """Alipay async notify (source of truth): anon, CSRF-exempt, unthrottled, form only.

    Answers text/plain `success` (200) only after the record committed — or for a verified
    non-paid `trade_status` — and `failure` (400) on any rejected check or error, so Alipay retries.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []
    parser_classes = [FormParser]

    @extend_schema(exclude=True)
    def post(self, request):
        params = dict(request.data.items())  # an empty body parses to {} (no QueryDict.dict)
        try:
            services.payment_notify(params=params)
        except PaymentRejected as exc:
            logger.warning("notify rejected for %s: %s", params.get("out_trade_no"), exc)
            return HttpResponse("failure", status=400, content_type="text/plain")
        except PaymentUnavailable:
            return HttpResponse("failure", status=400, content_type="text/plain")
        except Exception:  # contract: any error → `failure`, Alipay retries later
            logger.exception("notify failed for %s", params.get("out_trade_no"))
            return HttpResponse("failure", status=400, content_type="text/plain")
        return HttpResponse("success", content_type="text/plain")
