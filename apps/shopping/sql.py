"""The SQL statements of order creation, written once per database vendor (MariaDB, SQLite).

Order creation is the shopping app's write path under load (issue 6): an order is ~9 statements,
and building each one through the ORM (filter → query → compile) costs ~0.8 ms of CPU on the
2-core target against ~0.1 ms for its round trip. These statements are therefore plain SQL with
`%s` placeholders, their table and column names taken from the models (`_meta`) and quoted by the
connection's backend, so a renamed column breaks at import of the statement, not silently. They
are used only by `selectors.order_inputs` and `services.order_create`; everything else in the
app uses the ORM.

Parameters are adapted by the caller as the ORM would (`connection.ops.adapt_*`); booleans are
passed as Python bools (stored 0/1 by both backends).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from apps.shopping.models import Commodity, Order, OrderGoods, ShoppingCart
from apps.users.models import Address, Area


def _column(model: Any, name: str) -> str:
    return model._meta.get_field(name).column


@dataclass(frozen=True)
class Statements:
    """The statements for one backend (see `statements`); `*_in(n)` take `n` ids."""

    qn: Any  # the backend's quote_name

    def _table(self, model: Any) -> str:
        return self.qn(model._meta.db_table)

    def _col(self, model: Any, name: str) -> str:
        return self.qn(_column(model, name))

    def order_inputs(self, n: int) -> str:
        """Params `[address_id, user_id, is_delete=False, user_id, *n cart ids]` → one row per
        found cart row (at least one row): `(province, city, district, place, receiver, mobile,
        cart id, commodity_id, number)`; the address columns are NULL when the address is not
        the user's live one, the cart columns NULL when no cart row matched. One statement: a
        one-row anchor LEFT JOINed to the address (+ its 3 areas) and to the cart rows."""
        a, area, cart, col = (
            self._table(Address),
            self._table(Area),
            self._table(ShoppingCart),
            self._col,
        )
        name, area_id = col(Area, "name"), col(Area, "id")
        return (
            f"SELECT p.{name}, c.{name}, d.{name}, x.{col(Address, 'place')}, "
            f"x.{col(Address, 'receiver')}, x.{col(Address, 'mobile')}, s.{col(ShoppingCart, 'id')}, "
            f"s.{col(ShoppingCart, 'commodity')}, s.{col(ShoppingCart, 'number')} "
            f"FROM (SELECT 1 AS one) anchor "
            f"LEFT JOIN {a} x ON x.{col(Address, 'id')} = %s AND x.{col(Address, 'user')} = %s "
            f"AND x.{col(Address, 'is_delete')} = %s "
            f"LEFT JOIN {area} p ON p.{area_id} = x.{col(Address, 'province')} "
            f"LEFT JOIN {area} c ON c.{area_id} = x.{col(Address, 'city')} "
            f"LEFT JOIN {area} d ON d.{area_id} = x.{col(Address, 'district')} "
            f"LEFT JOIN {cart} s ON s.{col(ShoppingCart, 'user')} = %s "
            f"AND s.{col(ShoppingCart, 'id')} IN ({_marks(n)})"
        )

    @property
    def decrement_stock(self) -> str:
        """API.md §2.6 step 2. Params `[n, n, commodity_id, is_delete=False, n]`; rowcount 0|1."""
        stock, sales = self._col(Commodity, "stock"), self._col(Commodity, "sales")
        return (
            f"UPDATE {self._table(Commodity)} SET {stock} = {stock} - %s, {sales} = {sales} + %s "
            f"WHERE {self._col(Commodity, 'id')} = %s AND {self._col(Commodity, 'is_delete')} = %s "
            f"AND {stock} >= %s"
        )

    def commodities(self, n: int) -> str:
        """Params `n` ids → rows `(id, price, name, image)`."""
        col = self._col
        return (
            f"SELECT {col(Commodity, 'id')}, {col(Commodity, 'price')}, {col(Commodity, 'name')}, "
            f"{col(Commodity, 'image')} FROM {self._table(Commodity)} "
            f"WHERE {col(Commodity, 'id')} IN ({_marks(n)})"
        )

    @property
    def insert_order(self) -> str:
        """Params in `ORDER_COLUMNS` order."""
        cols = ", ".join(self._col(Order, name) for name in ORDER_COLUMNS)
        return f"INSERT INTO {self._table(Order)} ({cols}) VALUES ({_marks(len(ORDER_COLUMNS))})"

    def insert_goods(self, n: int, returning: bool) -> str:
        """Params: `n` × `GOODS_COLUMNS`; with `returning`, answers the new ids in row order."""
        cols = ", ".join(self._col(OrderGoods, name) for name in GOODS_COLUMNS)
        row = f"({_marks(len(GOODS_COLUMNS))})"
        tail = f" RETURNING {self._col(OrderGoods, 'id')}" if returning else ""
        return f"INSERT INTO {self._table(OrderGoods)} ({cols}) VALUES {', '.join([row] * n)}{tail}"

    def delete_cart(self, n: int) -> str:
        """Params `[user_id, *n ids]`."""
        col = self._col
        return (
            f"DELETE FROM {self._table(ShoppingCart)} WHERE {col(ShoppingCart, 'user')} = %s "
            f"AND {col(ShoppingCart, 'id')} IN ({_marks(n)})"
        )


ORDER_COLUMNS = (
    "order_id", "user", "address", "total_count", "total_amount", "freight", "pay_method",
    "status", "create_time", "update_time",
)  # fmt: skip
GOODS_COLUMNS = ("order", "commodity", "number", "price", "create_time", "update_time")


def _marks(n: int) -> str:
    return ", ".join(["%s"] * n)


class _CachedStatements:
    """`Statements` with every statement text built once (per id count for the `*(n)` ones)."""

    def __init__(self, statements: Statements) -> None:
        self.decrement_stock = statements.decrement_stock
        self.insert_order = statements.insert_order
        self.order_inputs = cache(statements.order_inputs)
        self.commodities = cache(statements.commodities)
        self.insert_goods = cache(statements.insert_goods)
        self.delete_cart = cache(statements.delete_cart)


_BY_VENDOR: dict[str, _CachedStatements] = {}


def statements(connection: Any) -> _CachedStatements:
    """The order-creation statements for `connection`'s backend (built once per vendor)."""
    built = _BY_VENDOR.get(connection.vendor)
    if built is None:
        built = _BY_VENDOR[connection.vendor] = _CachedStatements(
            Statements(connection.ops.quote_name)
        )
    return built
