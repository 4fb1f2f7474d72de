"""The reference apps: the article's endpoint in FastAPI and in Flask, outside Django.

Both serve the contract's `GET users/{id}/orders` with the same token check (`users.Token`,
SHA-256 digests) and the same queries as the Django styles, on a psycopg pool. The SQL and the
JSON shapes live here once, so the two apps differ only in their framework's idiom.
"""

import hashlib
import os
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "")
POOL_SIZE = int(os.environ.get("BENCH_POOL_SIZE", "32"))

# The token's user, in one query (Django: Token.objects.select_related("user")).
VIEWER_SQL = """
SELECT u.id, u.email, u.name, u.age, u.is_active, u.is_staff
FROM users_token t JOIN users_user u ON u.id = t.user_id
WHERE t.digest = %s LIMIT 1
"""
USER_SQL = "SELECT id, email, name, age, is_active, is_staff FROM users_user WHERE id = %s"
ORDERS_SQL = """
SELECT id, customer_id, status, total, created_at, updated_at
FROM orders_order WHERE customer_id = %s ORDER BY created_at DESC, id DESC
"""
LINES_SQL = """
SELECT l.order_id, l.product_id, p.sku, l.quantity, l.unit_price
FROM orders_orderline l JOIN orders_product p ON p.id = l.product_id
WHERE l.order_id = ANY(%s) ORDER BY l.id
"""

UserRow = tuple[int, str, str, int | None, bool, bool]
OrderRow = tuple[int, int, str, Decimal, datetime, datetime]
LineRow = tuple[int, int, str, int, Decimal]


def bearer_digest(header: str | None) -> str | None:
    """The SHA-256 digest of an `Authorization: Bearer <key>` header's key, or None."""
    scheme, _, key = (header or "").partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        return None
    return hashlib.sha256(key.encode()).hexdigest()


def visible(viewer: UserRow, user_id: int) -> bool:
    """That user themself, or staff (the contract's rule, as `users.selectors` has it)."""
    return viewer[0] == user_id or viewer[5]


def timestamp(value: datetime) -> str:
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


NOT_AUTHENTICATED = {"detail": "Authentication credentials were not provided."}
INVALID_TOKEN = {"detail": "Invalid token."}
NOT_FOUND = {"detail": "Not found."}
