"""Celery tasks of the shopping app: ids in, work in services; each is safe to run twice."""

import logging

from celery import shared_task
from django.core.mail import send_mail

from apps.shopping import services
from apps.shopping.exceptions import PaymentUnavailable
from apps.shopping.models import Order
from utils.mail import MAIL_TASK_RETRY

logger = logging.getLogger(__name__)


@shared_task(**MAIL_TASK_RETRY)
def send_order_paid_mail(order_id: str) -> bool:
    """Mail the buyer that order `order_id` is paid (payment follow-up, after the notify commit).

    Returns False (nothing sent) when the order is gone, not paid, or the buyer has no e-mail.
    Retries SMTP/network errors with exponential backoff (max 8 tries).
    """
    order = Order.objects.select_related("user").filter(pk=order_id).first()
    if order is None or order.status == Order.Status.UNPAID or not order.user.email:
        logger.info("paid mail for order %s skipped", order_id)
        return False
    body = (
        f"{order.user.username}，你好：\n\n你的订单 {order.order_id} 已支付成功，"
        f"金额 ¥{order.total_amount}，共 {order.total_count} 件商品。我们会尽快发货。\n"
    )
    send_mail("学习交流平台：订单已支付", body, None, [order.user.email])
    logger.info("paid mail sent for order %s", order_id)
    return True


@shared_task
def close_unpaid_orders() -> int:
    """Beat: close unpaid orders older than `ORDER_PAY_TIMEOUT` s, restoring stock once."""
    return services.orders_close_expired()


@shared_task
def query_pending_payments() -> int:
    """Beat: trade-query unpaid orders whose payment was started; settle the paid ones."""
    return services.payments_query_pending()


@shared_task(
    autoretry_for=(PaymentUnavailable,), retry_backoff=True, retry_backoff_max=300, max_retries=5
)
def query_payment(order_id: str) -> bool:
    """Trade-query one order (enqueued by the return endpoint); settles it like a notify."""
    return services.payment_query_settle(order_id=order_id)
