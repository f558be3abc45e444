"""Writes of the shopping app: commodities, cart, order creation, payment settlement, closing.

Every multi-row write runs in one transaction here; side effects (cache version bumps, the
"paid" mail) run after commit. Money is `Decimal` yuan; durations are seconds.
"""

import logging
import secrets
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import partial
from operator import attrgetter
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.functions import Least
from django.http import HttpRequest
from django.utils import timezone

from apps.shopping import alipay, sql
from apps.shopping.exceptions import (
    InsufficientStock,
    OrderNotPayable,
    PaymentRejected,
    PaymentUnavailable,
)
from apps.shopping.models import Commodity, Order, OrderGoods, Payment, ShoppingCart
from apps.shopping.selectors import AddressSnapshot, CartLine
from apps.users.models import Address, User
from utils.cache import bump
from utils.images import normalise, validate_image_upload

logger = logging.getLogger(__name__)

COMMODITY_CACHE_NAMESPACE = "shopping:commodity"
CART_MAX_NUMBER = 99
ORDER_ID_ATTEMPTS = 3
CENT = Decimal("0.01")
COMMODITY_FIELDS = ["id", "name", "price", "image"]  # loaded by order_create for its response


def _commodities_changed() -> None:
    """Invalidate cached commodity bodies once the current transaction commits."""
    transaction.on_commit(partial(bump, COMMODITY_CACHE_NAMESPACE))


# --- Commodities (staff) ------------------------------------------------------------------------


@transaction.atomic
def commodity_create(*, data: Mapping[str, Any]) -> Commodity:
    """Create a commodity from validated `name`, `description`, `price` (yuan), `stock`."""
    commodity = Commodity.objects.create(**data)
    _commodities_changed()
    return commodity


@transaction.atomic
def commodity_update(*, commodity: Commodity, data: Mapping[str, Any]) -> Commodity:
    """Update the given fields (validated; `sales` is never among them)."""
    for field, value in data.items():
        setattr(commodity, field, value)
    commodity.save(update_fields=[*data.keys(), "update_time"])
    _commodities_changed()
    return commodity


@transaction.atomic
def commodity_delete(*, commodity: Commodity) -> None:
    """Soft-delete: hidden everywhere; existing orders keep their goods and snapshots."""
    Commodity.objects.filter(pk=commodity.pk).update(is_delete=True, update_time=timezone.now())
    _commodities_changed()


def commodity_set_image(*, commodity: Commodity, file: Any) -> Commodity:
    """Validate (API.md §1.8), re-encode and store an image; the commodity keeps the file id.

    Raises django ValidationError (`File too large (max 2 MB).` / `Upload a valid image.`).
    The storage call (possibly FastDFS, network) happens outside any transaction.
    """
    image = validate_image_upload(file)
    encoded = normalise(image, size=None)
    name = default_storage.save(
        f"commodity/{uuid.uuid4().hex}.{encoded.ext}", ContentFile(encoded.content)
    )
    with transaction.atomic():
        Commodity.objects.filter(pk=commodity.pk).update(image=name, update_time=timezone.now())
        _commodities_changed()
    commodity.refresh_from_db()
    return commodity


# --- Shopping cart ------------------------------------------------------------------------------


@transaction.atomic
def cart_add(*, user: User, commodity: Commodity, number: int) -> tuple[ShoppingCart, bool]:
    """Put `number` (1–99) of `commodity` in the cart; a repeat adds to the row, capped at 99.

    Returns `(row, created)`. Concurrent adds of the same commodity serialise on the unique key.
    """
    try:
        with transaction.atomic():
            row = ShoppingCart.objects.create(user=user, commodity=commodity, number=number)
            return row, True
    except IntegrityError:
        pass
    ShoppingCart.objects.filter(user=user, commodity=commodity).update(
        number=Least(F("number") + number, CART_MAX_NUMBER), update_time=timezone.now()
    )
    return ShoppingCart.objects.select_related("commodity").get(
        user=user, commodity=commodity
    ), False


def cart_update(*, row: ShoppingCart, number: int) -> ShoppingCart:
    """Set the row's `number` (1–99, validated)."""
    row.number = number
    row.save(update_fields=["number", "update_time"])
    return row


def cart_delete(*, row: ShoppingCart) -> None:
    """Remove the row from the cart."""
    row.delete()


# --- Orders -------------------------------------------------------------------------------------


def new_order_id(now: datetime | None = None) -> str:
    """`YYYYMMDDHHMMSS` (local time) + `secrets.token_hex(9)`: 32 chars, a valid out_trade_no."""
    stamp = timezone.localtime(now).strftime("%Y%m%d%H%M%S")
    return stamp + secrets.token_hex(9)


def _adapt_money(value: Decimal) -> Any:
    return connection.ops.adapt_decimalfield_value(value, 10, 2)


def _read_money(value: Any) -> Decimal:
    """A DECIMAL(10, 2) read by raw SQL: Decimal from MariaDB, int/float from SQLite."""
    return value if isinstance(value, Decimal) else Decimal(str(value)).quantize(CENT)


def _insert_order_row(cursor: Any, values: list[Any]) -> str:
    """INSERT the order row under a fresh `order_id` (values[0] is filled in); returns the id.

    A duplicate `order_id` (IntegrityError) is retried with a new id, `ORDER_ID_ATTEMPTS` in all.
    MariaDB/InnoDB and SQLite undo only the failed INSERT statement and keep the transaction
    (and its stock decrements) going, so no savepoint is paid for on the happy path; other
    backends get one savepoint per attempt.
    """
    statement = sql.statements(connection).insert_order
    statement_level_rollback = connection.vendor in ("mysql", "sqlite")
    for attempt in range(1, ORDER_ID_ATTEMPTS + 1):
        values[0] = new_order_id()
        try:
            if statement_level_rollback:
                cursor.execute(statement, values)
            else:
                with transaction.atomic():
                    cursor.execute(statement, values)
            return values[0]
        except IntegrityError:
            if attempt == ORDER_ID_ATTEMPTS:
                raise
            logger.warning("order_id collision, retrying (%s/%s)", attempt, ORDER_ID_ATTEMPTS)
    raise AssertionError("unreachable")


class _CartRowsGone(Exception):
    """The order's cart rows were no longer all there when it deleted them (a concurrent order)."""


ORDER_TOTAL_MAX = Decimal("99999999.99")  # yuan: `Order.total_amount` is Decimal(10, 2)


def order_create(
    *,
    user: User,
    address: Address | AddressSnapshot,
    cart: Sequence[ShoppingCart | CartLine],
    pay_method: int,
) -> Order:
    """`_order_create` (below), with the cart rows re-checked at the end of its transaction.

    Two requests for the same cart rows (a double click) both pass validation; the one whose
    `DELETE` of the rows finds fewer than it resolved is rolled back whole (stock, order, goods)
    and raises `ValidationError({"cart": ["Invalid pk \"<id>\" - object does not exist."]})` →
    400, as if it had come after the other (API.md §1.5 wording for unusable ids). Also raises
    `ValidationError({"cart": [...]})` when the total would exceed `ORDER_TOTAL_MAX` yuan, and
    `InsufficientStock` (409) as `_order_create` does.
    """
    try:
        return _order_create(user=user, address=address, cart=cart, pay_method=pay_method)
    except _CartRowsGone:
        ids = [row.pk for row in cart]
        present = set(
            ShoppingCart.objects.filter(user=user, pk__in=ids).values_list("pk", flat=True)
        )
        gone = next((pk for pk in ids if pk not in present), ids[0])
        raise ValidationError({"cart": [CART_ROW_GONE.format(pk_value=gone)]}) from None


CART_ROW_GONE = 'Invalid pk "{pk_value}" - object does not exist.'  # DRF's does_not_exist


@transaction.atomic
def _order_create(
    *,
    user: User,
    address: Address | AddressSnapshot,
    cart: Sequence[ShoppingCart | CartLine],
    pay_method: int,
) -> Order:
    """Turn the caller's resolved cart rows into an Order (API.md §2.6 "Order creation").

    `address` and `cart` are the caller's own rows, resolved before the transaction (the view's
    serializer does it with `selectors.order_inputs`; model instances work too): only `address.snapshot` and each row's `pk`, `commodity_id`, `number`
    are used.

    First statements: one conditional `UPDATE commodity SET stock = stock - n, sales = sales + n
    WHERE id = ? AND is_delete = false AND stock >= n` per row, ascending commodity id (one lock
    order for everyone, no retry loop). Any 0-row update → InsufficientStock(commodity=[ids]) →
    409, and the atomic block undoes every decrement. Then Order + OrderGoods (unit price
    snapshot), `total_amount` = Σ price×number + `ORDER_FREIGHT` (yuan), address snapshot, status
    UNPAID (Alipay) or TO_SHIP (cash), and the cart rows are deleted — all in this transaction.

    Statements (MariaDB, 2 rows): 2 UPDATE, 1 SELECT (prices, names, images of the locked rows),
    INSERT order, INSERT goods (ids via RETURNING), DELETE cart — plain SQL (`apps.shopping.sql`).
    Returns the Order with `goods` (each with its `commodity`: id, name, price, image) in memory.
    """
    rows = sorted(cart, key=attrgetter("commodity_id"))
    ids = [r.commodity_id for r in rows]
    statements = sql.statements(connection)
    with connection.cursor() as cursor:
        failed = []
        for row in rows:
            n = row.number
            cursor.execute(statements.decrement_stock, [n, n, row.commodity_id, False, n])
            if cursor.rowcount != 1:
                failed.append(row.commodity_id)
        if failed:
            raise InsufficientStock(commodity=failed)
        # rows are locked by our UPDATEs: the prices read now are the ones we sold at
        cursor.execute(statements.commodities(len(ids)), ids)
        commodities = {
            pk: Commodity.from_db(
                connection.alias, COMMODITY_FIELDS, [pk, name, _read_money(price), image]
            )
            for pk, price, name, image in cursor.fetchall()
        }
        freight = Decimal(settings.ORDER_FREIGHT).quantize(CENT)
        subtotal = sum((commodities[r.commodity_id].price * r.number for r in rows), Decimal("0"))
        if subtotal + freight > ORDER_TOTAL_MAX:
            raise ValidationError(
                {"cart": [f"The order total must not exceed {ORDER_TOTAL_MAX} yuan."]}
            )
        status = (
            Order.Status.UNPAID if pay_method == Order.PayMethod.ALIPAY else Order.Status.TO_SHIP
        )
        now = timezone.now()
        db_now = connection.ops.adapt_datetimefield_value(now)
        order = Order(
            user=user,
            address=address.snapshot,
            total_count=sum(r.number for r in rows),
            total_amount=(subtotal + freight).quantize(CENT),
            freight=freight,
            pay_method=pay_method,
            status=status,
            create_time=now,
            update_time=now,
        )
        order.order_id = _insert_order_row(
            cursor,
            [None, user.pk, order.address, order.total_count, _adapt_money(order.total_amount),
             _adapt_money(freight), pay_method, status, db_now, db_now],
        )  # fmt: skip
        order._state.adding = False
        order._state.db = connection.alias
        goods = [
            OrderGoods(
                order=order,
                commodity=commodities[r.commodity_id],
                number=r.number,
                price=commodities[r.commodity_id].price,
                create_time=now,
                update_time=now,
            )
            for r in rows
        ]
        returning = connection.features.can_return_rows_from_bulk_insert
        cursor.execute(
            statements.insert_goods(len(goods), returning),
            [v for g in goods for v in (order.order_id, g.commodity_id, g.number,
                                        _adapt_money(g.price), db_now, db_now)],
        )  # fmt: skip
        if returning:  # else the ids stay None and the caller re-reads the order
            for line, (pk,) in zip(goods, cursor.fetchall(), strict=True):
                line.pk = pk
                line._state.adding = False
                line._state.db = connection.alias
        cart_ids = [r.pk for r in rows]
        cursor.execute(statements.delete_cart(len(cart_ids)), [user.pk, *cart_ids])
        if cursor.rowcount != len(cart_ids):
            # another request consumed (or the user deleted) some of these rows after they were
            # resolved: this order must not sell them again (the atomic block undoes it all)
            raise _CartRowsGone()
    # the caller renders `order.goods` without another query
    order._prefetched_objects_cache = {"goods": goods}
    _commodities_changed()
    logger.info("order %s created by user %s (%s rows)", order.order_id, user.pk, len(rows))
    return order


def order_close_unpaid(*, order_id: str) -> bool:
    """Cancel one unpaid order and give its stock back, exactly once (repeat → no-op, False).

    Under the order's row lock: `UPDATE orders SET status=6 WHERE order_id=? AND status=1`; only
    when that changed a row: stock += n, sales -= n per line, ascending commodity id.
    """
    with transaction.atomic():
        locked = Order.objects.select_for_update().filter(pk=order_id).first()
        if locked is None or locked.status != Order.Status.UNPAID:
            return False
        changed = Order.objects.filter(pk=order_id, status=Order.Status.UNPAID).update(
            status=Order.Status.CANCELLED, update_time=timezone.now()
        )
        if not changed:
            return False
        lines = (
            OrderGoods.objects.filter(order_id=order_id)
            .order_by("commodity_id")
            .values_list("commodity_id", "number")
        )
        for commodity_id, number in lines:
            Commodity.objects.filter(pk=commodity_id).update(
                stock=F("stock") + number, sales=F("sales") - number
            )
        _commodities_changed()
    logger.info("order %s closed (pay timeout), stock restored", order_id)
    return True


def orders_close_expired(*, now: datetime | None = None, limit: int = 500) -> int:
    """Close unpaid orders older than `ORDER_PAY_TIMEOUT` seconds; returns how many closed.

    An order whose payment was started is first asked about at Alipay (trade query, outside any
    transaction) so a paid-but-unnotified order is settled rather than closed; if Alipay cannot
    be reached the timeout still wins (a late payment is then logged for refund).
    """
    now = now or timezone.now()
    deadline = now - timedelta(seconds=settings.ORDER_PAY_TIMEOUT)
    candidates = list(
        Order.objects.filter(status=Order.Status.UNPAID, create_time__lt=deadline)
        .order_by("create_time")
        .values_list("order_id", "pay_started_at")[:limit]
    )
    closed = 0
    for order_id, pay_started_at in candidates:
        if pay_started_at is not None:
            try:
                if payment_query_settle(order_id=order_id):
                    continue
            except (PaymentUnavailable, PaymentRejected) as exc:
                logger.warning("order %s: trade query before close failed (%s)", order_id, exc)
        closed += order_close_unpaid(order_id=order_id)
    return closed


# --- Payment ------------------------------------------------------------------------------------


def payment_start(*, order: Order, request: HttpRequest | None = None) -> str:
    """Return the signed `alipay.trade.page.pay` URL for the caller's unpaid Alipay order.

    Raises OrderNotPayable (409) unless status is UNPAID and pay_method ALIPAY, and also once
    the order's pay deadline (`create_time` + `ORDER_PAY_TIMEOUT` seconds) has passed: the
    close task is about to cancel it and give its stock back. The URL carries that deadline
    as Alipay's `time_expire`, so the trade cannot be paid after the order may have been
    cancelled. Records `pay_started_at` (the trade-query task then watches the order). No
    network I/O.
    """
    if order.status != Order.Status.UNPAID or order.pay_method != Order.PayMethod.ALIPAY:
        raise OrderNotPayable()
    deadline = order.create_time + timedelta(seconds=settings.ORDER_PAY_TIMEOUT)
    if timezone.now() >= deadline:
        raise OrderNotPayable()
    url = alipay.page_pay_url(
        out_trade_no=order.order_id,
        total_amount=str(order.total_amount),
        subject=f"Learning Exchange Platform order {order.order_id}",
        time_expire=deadline,
        request=request,
    )
    started = timezone.now()
    if Order.objects.filter(pk=order.pk, status=Order.Status.UNPAID).update(pay_started_at=started):
        order.pay_started_at = started
    return url


def payment_settle(
    *,
    app_id: str | None,
    out_trade_no: str | None,
    total_amount: str | None,
    trade_status: str | None,
    trade_no: str | None,
) -> bool:
    """Apply a verified Alipay result (notify or trade query), API.md §2.6 notify steps 2–6.

    Checks `app_id` = configured, the order exists, Decimal `total_amount` = order's exactly
    (else PaymentRejected). `trade_status` not TRADE_SUCCESS/TRADE_FINISHED → records nothing,
    returns False. Else, in one transaction with the order row locked: Payment get_or_create by
    `trade_id=trade_no`, status 1 → 2 only from 1; the "paid" mail and cache bump after commit.
    Returns True when the trade is recorded (also on repeats, which change nothing).
    """
    if not app_id or app_id != alipay.config().app_id:
        raise PaymentRejected("app_id mismatch")
    order = Order.objects.filter(pk=out_trade_no or "").first()
    if order is None:
        raise PaymentRejected("unknown out_trade_no")
    try:
        amount = Decimal(total_amount or "")
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount != order.total_amount:
        logger.warning(
            "payment for order %s: total_amount %r != %s",
            order.pk,
            total_amount,
            order.total_amount,
        )
        raise PaymentRejected("total_amount mismatch")
    if trade_status not in alipay.PAID_TRADE_STATUSES:
        logger.info("payment for order %s: trade_status %s acknowledged", order.pk, trade_status)
        return False
    if not trade_no:
        raise PaymentRejected("missing trade_no")
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        _, created = Payment.objects.get_or_create(trade_id=trade_no, order=order)
        if order.status == Order.Status.UNPAID:
            Order.objects.filter(pk=order.pk).update(
                status=Order.Status.TO_SHIP, update_time=timezone.now()
            )
            from apps.shopping.tasks import send_order_paid_mail

            transaction.on_commit(partial(send_order_paid_mail.delay, order.pk))
            _commodities_changed()
            logger.info("order %s paid (trade %s)", order.pk, trade_no)
        elif created:
            logger.warning(
                "order %s in status %s got trade %s: needs a refund check",
                order.pk,
                order.status,
                trade_no,
            )
    return True


def payment_notify(*, params: Mapping[str, str]) -> bool:
    """Handle Alipay's async notify (flat form): verify RSA2 over the params minus
    `sign`/`sign_type` with the Alipay public key, then `payment_settle`.

    Raises PaymentRejected on a bad signature or failed check; returns what settle returns.
    """
    if not alipay.verify_params(params):
        raise PaymentRejected("bad signature")
    return payment_settle(
        app_id=params.get("app_id"),
        out_trade_no=params.get("out_trade_no"),
        total_amount=params.get("total_amount"),
        trade_status=params.get("trade_status"),
        trade_no=params.get("trade_no"),
    )


def payment_query_settle(*, order_id: str) -> bool:
    """Ask Alipay (`alipay.trade.query`) about an unpaid order and settle like a notify.

    Returns True when the order is now recorded as paid. Raises PaymentUnavailable (gateway)
    or PaymentRejected (response fails a check). Network I/O happens outside transactions.
    """
    if not Order.objects.filter(pk=order_id, status=Order.Status.UNPAID).exists():
        return False
    response = alipay.trade_query(out_trade_no=order_id)
    if response.get("code") != "10000":
        logger.info(
            "trade query %s: %s %s", order_id, response.get("code"), response.get("sub_code")
        )
        return False
    if response.get("out_trade_no") != order_id:
        raise PaymentRejected("trade query answered another out_trade_no")
    return payment_settle(
        app_id=alipay.config().app_id,  # a signed answer to our own app's request
        out_trade_no=order_id,
        total_amount=response.get("total_amount"),
        trade_status=response.get("trade_status"),
        trade_no=response.get("trade_no"),
    )


def payments_query_pending(*, limit: int = 200) -> int:
    """Trade-query every unpaid order whose payment was started; returns how many got paid."""
    order_ids = list(
        Order.objects.filter(status=Order.Status.UNPAID, pay_started_at__isnull=False)
        .order_by("pay_started_at")
        .values_list("order_id", flat=True)[:limit]
    )
    paid = 0
    for order_id in order_ids:
        try:
            paid += payment_query_settle(order_id=order_id)
        except (PaymentUnavailable, PaymentRejected) as exc:
            logger.warning("trade query for order %s failed: %s", order_id, exc)
    return paid
