"""Routes of the offline Alipay simulator (mounted at `/sandbox/alipay/` only when enabled)."""

from django.urls import path

from apps.shopping.simulator import views

app_name = "alipay-simulator"
urlpatterns = [
    path("gateway/", views.gateway, name="gateway"),
    path("gateway/pay/", views.pay, name="pay"),
]
