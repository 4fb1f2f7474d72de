"""The article's read as SQL: the raw tier's statements (`orders.selectors.user_orders_document`).

`GET users/{id}/orders` is the hot read of the contract. The fast path (`api/plain/fast.py`)
and DRF's and ninja's raw tiers run these on PostgreSQL, and the benchmark's raw FastAPI and
Flask apps (`bench/peers/`) run the very same ones, so the comparison is of frameworks, not of
queries. The rows become the contract's document in `orders.contract.user_orders_document`.
No Django at import time, so the reference apps can use it.
"""

from typing import Final

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
