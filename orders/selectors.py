"""Reads of the order domain. They return querysets so sync and async callers share them."""

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from asgiref.sync import sync_to_async
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.db.models import F, QuerySet

from runtime import asyncdb
from runtime.prepared import PreparedValues
from users.models import User

from . import contract, sql
from .contract import UserRow
from .exceptions import OrderNotFound
from .models import Order, OrderEvent, OrderLine, OrderQuerySet, Product
from .services import MAX_ID


def orders_for_user(
    *,
    user: User | AnonymousUser,
    status: str | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
) -> OrderQuerySet:
    """Orders `user` may see, newest first, lines prefetched: two queries however many."""
    return order_list(
        orders=Order.objects.visible_to(user),
        status=status,
        created_from=created_from,
        created_to=created_to,
    )


def orders_of_customer(*, customer_id: int) -> OrderQuerySet:
    """One customer's orders, newest first, lines prefetched: two queries however many."""
    return Order.objects.filter(customer_id=customer_id).newest_first().with_lines()


def order_list(
    *,
    orders: OrderQuerySet | None = None,
    status: str | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
) -> OrderQuerySet:
    """All orders (or `orders`), filtered by status and a half-open creation window.

    Bounds may be naive (taken as UTC) or carry any offset a client can write, such as
    +23:59 in year 1: they are compared in UTC, and one beyond the range of dates leaves the
    window open on that side or empty.
    """
    qs = Order.objects.all() if orders is None else orders
    if status:
        qs = qs.filter(status=status)
    if created_from is not None:
        match _in_utc(created_from):
            case datetime() as bound:
                qs = qs.filter(created_at__gte=bound)
            case "after":
                qs = qs.none()
    if created_to is not None:
        match _in_utc(created_to):
            case datetime() as bound:
                qs = qs.filter(created_at__lt=bound)
            case "before":
                qs = qs.none()
    return qs.newest_first().with_lines()


def _in_utc(value: datetime) -> datetime | Literal["before", "after"]:
    """`value` in UTC, or which end of the calendar it falls off once converted."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        offset = value.utcoffset() or timedelta(0)
        return "before" if offset > timedelta(0) else "after"


def order_get(*, user: User | AnonymousUser, order_id: int) -> Order:
    """The order if `user` may see it.

    Raises:
        OrderNotFound: it does not exist or belongs to someone else (the two look the same).
    """
    order = orders_for_user(user=user).filter(pk=order_id).first()
    if order is None:
        raise OrderNotFound(f"Order {order_id} not found.")
    return order


def orders_stale_pending(*, created_before: datetime) -> OrderQuerySet:
    """Pending orders created before the cutoff, oldest first, with their customer."""
    return (
        Order.objects.filter(status=Order.Status.PENDING, created_at__lt=created_before)
        .select_related("customer")
        .order_by("created_at", "id")
    )


async def aorder_get(*, user: User | AnonymousUser, order_id: int) -> Order:
    """`order_get` on the async ORM.

    Raises:
        OrderNotFound: it does not exist or belongs to someone else.
    """
    order = await orders_for_user(user=user).filter(pk=order_id).afirst()
    if order is None:
        raise OrderNotFound(f"Order {order_id} not found.")
    return order


def products_visible_to(*, user: User | AnonymousUser) -> QuerySet[Product]:
    """Staff see every product, everyone else the active ones; ordered by SKU."""
    products = Product.objects.all() if user.is_staff else Product.objects.filter(is_active=True)
    return products.order_by("sku", "id")


def order_history(*, order: Order) -> QuerySet[OrderEvent]:
    """The order's events, oldest first, with who did each (one query)."""
    return order.events.select_related("actor").order_by("created_at", "id")


ORDER_VALUES = ("id", "customer_id", "status", "total", "created_at", "updated_at")
LINE_VALUES = ("order_id", "product_id", "quantity", "unit_price")


def order_values_of_customer(*, customer_id: int) -> QuerySet[Order, dict[str, Any]]:
    """One customer's orders as `.values()` rows, newest first: no model instances."""
    return (
        Order.objects.filter(customer_id=customer_id)
        .order_by("-created_at", "-id")
        .values(*ORDER_VALUES)
    )


def line_values_of_customer(*, customer_id: int) -> QuerySet[OrderLine, dict[str, Any]]:
    """All lines of one customer's orders as `.values()` rows with the product's SKU, by id.

    One query for all of them, joined through the order: no list of order ids to send back.
    """
    return (
        OrderLine.objects.filter(order__customer_id=customer_id)
        .order_by("id")
        .values(*LINE_VALUES, sku=F("product__sku"))
    )


def nest_lines(
    user: dict[str, Any], orders: list[dict[str, Any]], lines: list[dict[str, Any]]
) -> dict[str, Any]:
    """`{"user": ..., "orders": [..., "lines": [...]]}` from `.values()` rows, Python values kept.

    What the tuned tier's serializers and schemas take: the contract's shape, with `Decimal`
    and `datetime` values for them to format.
    """
    by_order: dict[int, list[dict[str, Any]]] = {}
    for order in orders:
        order["lines"] = by_order[order["id"]] = []
    for line in lines:
        by_order[line.pop("order_id")].append(line)
    return {"user": user, "orders": orders}


# The tuned tier's two reads, compiled once (runtime.prepared): the querysets above write the SQL.
ORDER_ROWS = PreparedValues(
    lambda customer_id: order_values_of_customer(customer_id=customer_id),
    ORDER_VALUES,
    ["customer_id"],
)
LINE_ROWS = PreparedValues(
    lambda customer_id: line_values_of_customer(customer_id=customer_id),
    (*LINE_VALUES, "sku"),
    ["customer_id"],
)


def user_orders_values(*, viewer: User, user_id: int) -> dict[str, Any] | None:
    """`GET users/{id}/orders` as `.values()` querysets: the tuned ORM tier's read.

    The querysets build the SQL (compiled once, `runtime.prepared`) and return dicts: no model
    instances, no prefetch machinery, no related-object cache. None when `viewer` may not see
    `user_id`. Two queries (three when staff read someone else's).
    """
    if not _may_read(viewer, user_id):
        return None
    if viewer.pk == user_id:
        user = _own_values(viewer)
    else:
        user = User.objects.filter(pk=user_id).values(*USER_VALUES).first()
        if user is None:
            return None
    return nest_lines(
        user, ORDER_ROWS.rows(customer_id=user_id), LINE_ROWS.rows(customer_id=user_id)
    )


async def auser_orders_values(*, viewer: User, user_id: int) -> dict[str, Any] | None:
    """`user_orders_values` for async code: the prepared querysets on psycopg's async pool."""
    if not _may_read(viewer, user_id):
        return None
    if viewer.pk == user_id:
        user = _own_values(viewer)
    else:
        user = await User.objects.filter(pk=user_id).values(*USER_VALUES).afirst()
        if user is None:
            return None
    async with asyncdb.aconnection():  # one pooled connection for both reads
        orders = await ORDER_ROWS.arows(customer_id=user_id)
        lines = await LINE_ROWS.arows(customer_id=user_id)
    return nest_lines(user, orders, lines)


def user_orders_document(*, viewer: User, user_id: int) -> dict[str, Any] | None:
    """The contract's `users/{id}/orders` document: rows rendered by `orders.contract`.

    The hot read of the contract, so no model instances and no serializer: on PostgreSQL the
    statements of `orders.sql` (the ones the benchmark's FastAPI and Flask apps run),
    elsewhere the same reads as `values_list()`. None when `viewer` may not see `user_id`
    (themself, or staff): the contract answers 404 for someone else's and unknown users alike.
    Two queries for any number of orders; three when staff read someone else's.
    """
    if not _may_read(viewer, user_id):
        return None
    own = _own_row(viewer)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:

            def rows(sql: str, *params: Any) -> list[Any]:
                cursor.execute(sql, params)
                return cursor.fetchall()

            user = own if viewer.pk == user_id else next(iter(rows(sql.USER_SQL, user_id)), None)
            if user is None:
                return None
            orders = rows(sql.ORDERS_SQL, user_id)
            lines = rows(sql.LINES_SQL, [order[0] for order in orders])
        return contract.user_orders_document(user, orders, lines)

    if viewer.pk == user_id:
        user = own
    else:
        user = User.objects.filter(pk=user_id).values_list(*USER_COLUMNS).first()
        if user is None:
            return None
    orders = list(
        Order.objects.filter(customer_id=user_id)
        .order_by("-created_at", "-id")
        .values_list("id", "customer_id", "status", "total", "created_at", "updated_at")
    )
    lines = list(
        OrderLine.objects.filter(order__customer_id=user_id)
        .order_by("id")
        .values_list("order_id", "product_id", "product__sku", "quantity", "unit_price")
    )
    return contract.user_orders_document(user, orders, lines)


async def auser_orders_document(*, viewer: User, user_id: int) -> dict[str, Any] | None:
    """`user_orders_document` for async code: on psycopg's async driver, where there is one.

    On PostgreSQL the statements run on a pooled async connection (`runtime.asyncdb`): no
    thread hop. Elsewhere, `user_orders_document` in a thread.
    """
    if not asyncdb.available():
        return await sync_to_async(user_orders_document)(viewer=viewer, user_id=user_id)
    if not _may_read(viewer, user_id):
        return None
    async with asyncdb.aconnection() as conn:
        user = (
            _own_row(viewer)
            if viewer.pk == user_id
            else await (await conn.execute(sql.USER_SQL, (user_id,))).fetchone()
        )
        if user is None:
            return None
        orders = await (await conn.execute(sql.ORDERS_SQL, (user_id,))).fetchall()
        ids = [order[0] for order in orders]
        lines = await (await conn.execute(sql.LINES_SQL, (ids,))).fetchall()
    return contract.user_orders_document(user, orders, lines)


USER_COLUMNS = ("id", "email", "name", "age", "is_active", "is_staff")
USER_VALUES = ("id", "email", "name", "age")


def _may_read(viewer: User, user_id: int) -> bool:
    return (viewer.pk == user_id or viewer.is_staff) and 0 < user_id <= MAX_ID


def _own_values(viewer: User) -> dict[str, Any]:
    return {"id": viewer.pk, "email": viewer.email, "name": viewer.name, "age": viewer.age}


def _own_row(viewer: User) -> UserRow:
    return (viewer.pk, viewer.email, viewer.name, viewer.age, viewer.is_active, viewer.is_staff)
