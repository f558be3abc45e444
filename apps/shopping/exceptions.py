"""Domain errors of the shopping app (rendered by `utils.drf.exception_handler`, API.md §1.5)."""

from utils.exceptions import Conflict, DomainError, ServiceUnavailable


class InsufficientStock(Conflict):
    """409 `insufficient_stock`; extra `commodity`: [ids whose conditional decrement failed]."""

    code = "insufficient_stock"
    default_message = "Insufficient stock."


class OrderNotPayable(Conflict):
    """409 `order_not_payable`: the order is not unpaid or not an Alipay order."""

    code = "order_not_payable"
    default_message = "Order is not payable."


class PaymentRejected(DomainError):
    """A notify / trade-query result failed a check (API.md §2.6 notify steps 1–4); `failure`."""

    code = "payment_rejected"
    default_message = "Payment notification rejected."


class PaymentUnavailable(ServiceUnavailable):
    """Alipay (gateway or keys) is unavailable (503)."""

    def __init__(self, **extra) -> None:
        super().__init__("Payment", **extra)
