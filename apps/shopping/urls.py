"""URL routes of the shopping app (mounted under /api/shopping/ by config.urls)."""

from django.urls import path

from apps.shopping import views
from utils.drf import ApiRouter

router = ApiRouter()
router.register("commodity", views.CommodityViewSet, basename="commodity")
router.register("cart", views.ShoppingCartViewSet, basename="cart")
router.register("orders", views.OrderViewSet, basename="orders")
router.register("payment", views.PaymentViewSet, basename="payment")

urlpatterns = [
    # before the router: `payment/{pk}/` would otherwise swallow these
    path("payment/notify/", views.NotifyView.as_view(), name="payment-notify"),
    path("payment/<str:order_id>/pay/", views.PayView.as_view(), name="payment-pay"),
    *router.urls,
]
