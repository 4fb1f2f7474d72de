"""The article's endpoint as SQL and a JSON document, with no Django in the way.

`GET users/{id}/orders` is the hot read of the contract. The fast path (`users/api/fast.py`)
runs these statements on psycopg's async connections, and the benchmark's FastAPI and Flask
reference apps (`bench/peers/`) run the very same ones, so the comparison is of frameworks, not
of queries. This module imports nothing from Django, so the reference apps stay outside it.
"""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

# The token's user, in one query (the ORM's `Token.objects.select_related("user")`).
VIEWER_SQL: Final = """
SELECT u.id, u.email, u.name, u.age, u.is_active, u.is_staff
FROM users_token t JOIN users_user u ON u.id = t.user_id
WHERE t.digest = %s LIMIT 1
"""
USER_SQL: Final = "SELECT id, email, name, age, is_active, is_staff FROM users_user WHERE id = %s"
ORDERS_SQL: Final = """
SELECT id, customer_id, status, total, created_at, updated_at
FROM orders_order WHERE customer_id = %s ORDER BY created_at DESC, id DESC
"""
LINES_SQL: Final = """
SELECT l.order_id, l.product_id, p.sku, l.quantity, l.unit_price
FROM orders_orderline l JOIN orders_product p ON p.id = l.product_id
WHERE l.order_id = ANY(%s) ORDER BY l.id
"""

UserRow = tuple[int, str, str, int | None, bool, bool]  # id, email, name, age, active, staff
OrderRow = tuple[int, int, str, Decimal, datetime, datetime]
LineRow = tuple[int, int, str, int, Decimal]


def visible(viewer: UserRow, user_id: int) -> bool:
    """That user themself, or staff: the contract's rule, as `users.selectors` has it."""
    return viewer[0] == user_id or viewer[5]


def timestamp(value: datetime) -> str:
    """ISO 8601 in UTC with a Z, microseconds when non-zero: as DRF and Pydantic write it."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def user_orders_json(user: UserRow, orders: list[OrderRow], lines: list[LineRow]) -> dict[str, Any]:
    """The contract's `{"user": User, "orders": [Order...]}`; lines arrive in line-id order."""
    by_order: dict[int, list[dict[str, Any]]] = {order[0]: [] for order in orders}
    for order_id, product_id, sku, quantity, unit_price in lines:
        by_order[order_id].append(
            {
                "product_id": product_id,
                "sku": sku,
                "quantity": quantity,
                "unit_price": f"{unit_price:.2f}",
            }
        )
    return {
        "user": {"id": user[0], "email": user[1], "name": user[2], "age": user[3]},
        "orders": [
            {
                "id": order_id,
                "customer_id": customer_id,
                "status": status,
                "total": f"{total:.2f}",
                "created_at": timestamp(created_at),
                "updated_at": timestamp(updated_at),
                "lines": by_order[order_id],
            }
            for order_id, customer_id, status, total, created_at, updated_at in orders
        ],
    }
