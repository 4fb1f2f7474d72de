"""The contract's representations, written once (docs/api-contract.md).

Money as a string with two places, times in UTC with a `Z`, and the user, line, order and
event documents. Every style's output, the socket message, the idempotency snapshot and
`export_orders` are built from these; DRF serializers and ninja schemas declare the same
shapes in their own idiom, and the contract suite checks that all of them agree.

No Django at import time: the benchmark's FastAPI and Flask apps use these formats too.
"""

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict

if TYPE_CHECKING:
    from orders.models import Order, OrderEvent, OrderLine
    from users.models import User


def money(value: Decimal) -> str:
    """A decimal string with two places: `Decimal("12.5")` -> `"12.50"`."""
    return f"{value:.2f}"


def timestamp(value: datetime) -> str:
    """ISO 8601 in UTC with a Z, microseconds when non-zero: as DRF and Pydantic write it."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def user_document(user: "User") -> dict[str, Any]:
    """The contract's User."""
    return {"id": user.pk, "email": user.email, "name": user.name, "age": user.age}


def line_document(
    *, product_id: int, sku: str, quantity: int, unit_price: Decimal
) -> dict[str, Any]:
    """The contract's OrderLine."""
    return {
        "product_id": product_id,
        "sku": sku,
        "quantity": quantity,
        "unit_price": money(unit_price),
    }


def order_document(order: "Order", lines: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The contract's Order, with its lines already as documents (`line_document`)."""
    row = (
        order.pk,
        order.customer_id,
        str(order.status),
        order.total,
        order.created_at,
        order.updated_at,
    )
    return _order(row, list(lines))


def order_document_of(order: "Order") -> dict[str, Any]:
    """`order_document` of an order whose lines and products are prefetched (`with_lines`)."""
    return order_document(order, (_line_of(line) for line in order.lines.all()))


def _line_of(line: "OrderLine") -> dict[str, Any]:
    return line_document(
        product_id=line.product_id,
        sku=line.product.sku,
        quantity=line.quantity,
        unit_price=line.unit_price,
    )


def _order(row: "OrderRow", lines: list[dict[str, Any]]) -> dict[str, Any]:
    order_id, customer_id, status, total, created_at, updated_at = row
    return {
        "id": order_id,
        "customer_id": customer_id,
        "status": status,
        "total": money(total),
        "created_at": timestamp(created_at),
        "updated_at": timestamp(updated_at),
        "lines": lines,
    }


# Rows as the raw reads fetch them (`orders.sql`).
UserRow = tuple[int, str, str, int | None, bool, bool]  # id, email, name, age, active, staff
OrderRow = tuple[int, int, str, Decimal, datetime, datetime]
LineRow = tuple[int, int, str, int, Decimal]  # order_id, product_id, sku, quantity, unit_price


def user_orders_document(
    user: Sequence[Any], orders: Iterable[OrderRow], lines: Iterable[LineRow]
) -> dict[str, Any]:
    """The contract's `{"user": User, "orders": [Order...]}` from rows; lines in line-id order."""
    orders = list(orders)
    by_order: dict[int, list[dict[str, Any]]] = {order[0]: [] for order in orders}
    for order_id, product_id, sku, quantity, unit_price in lines:
        by_order[order_id].append(
            line_document(product_id=product_id, sku=sku, quantity=quantity, unit_price=unit_price)
        )
    return {
        "user": {"id": user[0], "email": user[1], "name": user[2], "age": user[3]},
        "orders": [_order(order, by_order[order[0]]) for order in orders],
    }


def user_orders_document_of(user: "User", orders: Iterable["Order"]) -> dict[str, Any]:
    """`user_orders_document` of model instances, lines prefetched (`orders_of_customer`)."""
    return {"user": user_document(user), "orders": [order_document_of(o) for o in orders]}


class OrderEventMessage(TypedDict):
    """What a socket client receives for each event of an order it may see."""

    type: str  # the consumer's handler: "order.event"
    order_id: int
    customer_id: int
    kind: str
    from_status: str
    status: str
    total: str
    at: str
    actor: str | None


def event_message(event: "OrderEvent") -> OrderEventMessage:
    """The socket message for `event`, from objects already in memory (no query)."""
    order = event.order
    actor = event.actor
    return {
        "type": "order.event",
        "order_id": order.pk,
        "customer_id": order.customer_id,
        "kind": event.kind,
        "from_status": event.from_status,
        "status": event.to_status,
        "total": money(order.total),
        "at": timestamp(event.created_at),
        "actor": actor.email if actor is not None else None,
    }
