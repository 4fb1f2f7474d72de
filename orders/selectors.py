"""Reads of the order domain. They return querysets so sync and async callers share them."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, F, Q, QuerySet, Sum, Window
from django.db.models.functions import TruncDate
from django.utils import timezone

from runtime import asyncdb, reads
from runtime.prepared import PreparedValues
from users.models import User, may_see

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


def _order(user: User | AnonymousUser, order_id: int) -> reads.Read[Order]:
    order: Order | None = yield reads.First(orders_for_user(user=user).filter(pk=order_id))
    if order is None:
        raise OrderNotFound(f"Order {order_id} not found.")
    return order


def order_get(*, user: User | AnonymousUser, order_id: int) -> Order:
    """The order if `user` may see it.

    Raises:
        OrderNotFound: it does not exist or belongs to someone else (the two look the same).
    """
    return reads.run(_order(user, order_id))


async def aorder_get(*, user: User | AnonymousUser, order_id: int) -> Order:
    """`order_get` for async code.

    Raises:
        OrderNotFound: it does not exist or belongs to someone else.
    """
    return await reads.arun(_order, user, order_id)


def orders_stale_pending(*, created_before: datetime) -> OrderQuerySet:
    """Pending orders created before the cutoff, oldest first, with their customer."""
    return (
        Order.objects.filter(status=Order.Status.PENDING, created_at__lt=created_before)
        .select_related("customer")
        .order_by("created_at", "id")
    )


# --- The staff's first screen (the admin index) ----------------------------------------------

# The statuses whose orders have been paid for: what "revenue" counts.
PAID_STATUSES = (Order.Status.PAID, Order.Status.SHIPPED, Order.Status.DELIVERED)


@dataclass(frozen=True)
class DeskSummary:
    """Today at the desk: orders and revenue, the workload by status, what runs out, two weeks."""

    today_orders: int
    today_revenue: Decimal
    by_status: list[tuple[str, int]]  # (status, orders), every status in its declared order
    low_stock: Sequence[Product]  # active products with LOW_STOCK units or fewer, fewest first
    low_stock_count: int
    daily_orders: list[tuple[date, int]]  # the last `days` UTC days, oldest first, today last


def desk_summary(*, now: datetime | None = None, days: int = 14, shown: int = 10) -> DeskSummary:
    """The admin index's figures in four queries, whatever the number of orders and products.

    "Today" is the UTC day of `now`. Revenue is the total of today's orders that are paid for.
    """
    now = now or timezone.now()
    today = now.astimezone(UTC).date()
    midnight = datetime.combine(today, time.min, tzinfo=UTC)
    first_day = today - timedelta(days=days - 1)

    figures = Order.objects.filter(created_at__gte=midnight).aggregate(
        orders=Count("id"), revenue=Sum("total", filter=Q(status__in=PAID_STATUSES))
    )
    counts = dict(Order.objects.order_by().values_list("status").annotate(n=Count("id")))
    low = Product.objects.filter(is_active=True, stock__lte=Product.LOW_STOCK).annotate(
        matching=Window(Count("id"))
    )
    low_stock = list(low.order_by("stock", "sku")[:shown])
    per_day = dict(
        Order.objects.filter(created_at__gte=datetime.combine(first_day, time.min, tzinfo=UTC))
        .annotate(day=TruncDate("created_at", tzinfo=UTC))
        .order_by()
        .values_list("day")
        .annotate(n=Count("id"))
    )
    return DeskSummary(
        today_orders=figures["orders"],
        today_revenue=(figures["revenue"] or Decimal(0)).quantize(Decimal("0.01")),
        by_status=[(status, counts.get(status, 0)) for status in Order.Status.values],
        low_stock=low_stock,
        low_stock_count=low_stock[0].matching if low_stock else 0,
        daily_orders=[
            (first_day + timedelta(days=n), per_day.get(first_day + timedelta(days=n), 0))
            for n in range(days)
        ],
    )


def products_for_sale(*, query: str = "") -> QuerySet[Product]:
    """The storefront's catalogue: active products, by name; `query` matches name or SKU."""
    products = Product.objects.filter(is_active=True)
    if query:
        products = products.filter(Q(name__icontains=query) | Q(sku__icontains=query))
    return products.order_by("name", "id")


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


def _orders_values(viewer: User, user_id: int) -> reads.Read[dict[str, Any] | None]:
    if not _may_read(viewer, user_id):
        return None
    if viewer.pk == user_id:
        user = _own_values(viewer)
    else:
        user = yield reads.First(User.objects.filter(pk=user_id).values(*USER_VALUES))
        if user is None:
            return None
    orders = yield reads.Rows(ORDER_ROWS, {"customer_id": user_id})
    lines = yield reads.Rows(LINE_ROWS, {"customer_id": user_id})
    return nest_lines(user, orders, lines)


def user_orders_values(*, viewer: User, user_id: int) -> dict[str, Any] | None:
    """`GET users/{id}/orders` as `.values()` querysets: the tuned ORM tier's read.

    The querysets build the SQL (compiled once, `runtime.prepared`) and return dicts: no model
    instances, no prefetch machinery, no related-object cache. None when `viewer` may not see
    `user_id`. Two queries (three when staff read someone else's).
    """
    return reads.run(_orders_values(viewer, user_id))


async def auser_orders_values(*, viewer: User, user_id: int) -> dict[str, Any] | None:
    """`user_orders_values` for async code: the prepared querysets on psycopg's async pool."""
    return await reads.arun(_orders_values, viewer, user_id)


def _orders_document(viewer: User, user_id: int) -> reads.Read[dict[str, Any] | None]:
    if not _may_read(viewer, user_id):
        return None
    on_postgresql = asyncdb.available()
    if viewer.pk == user_id:
        user = _own_row(viewer)
    elif on_postgresql:
        user = yield reads.Sql(sql.USER_SQL, (user_id,), one=True)
    else:
        user = yield reads.First(User.objects.filter(pk=user_id).values_list(*USER_COLUMNS))
    if user is None:
        return None
    if on_postgresql:
        orders = yield reads.Sql(sql.ORDERS_SQL, (user_id,))
        lines = yield reads.Sql(sql.LINES_SQL, ([order[0] for order in orders],))
    else:
        orders = yield reads.All(
            Order.objects.filter(customer_id=user_id)
            .order_by("-created_at", "-id")
            .values_list("id", "customer_id", "status", "total", "created_at", "updated_at")
        )
        lines = yield reads.All(
            OrderLine.objects.filter(order__customer_id=user_id)
            .order_by("id")
            .values_list("order_id", "product_id", "product__sku", "quantity", "unit_price")
        )
    return contract.user_orders_document(user, orders, lines)


def user_orders_document(*, viewer: User, user_id: int) -> dict[str, Any] | None:
    """The contract's `users/{id}/orders` document: rows rendered by `orders.contract`.

    The hot read of the contract, so no model instances and no serializer: on PostgreSQL the
    statements of `orders.sql` (the ones the benchmark's FastAPI and Flask apps run), elsewhere
    the same reads as `values_list()`. None when `viewer` may not see `user_id` (themself, or
    staff): the contract answers 404 for someone else's and unknown users alike. Two queries
    for any number of orders; three when staff read someone else's.
    """
    return reads.run(_orders_document(viewer, user_id))


async def auser_orders_document(*, viewer: User, user_id: int) -> dict[str, Any] | None:
    """`user_orders_document` for async code: on PostgreSQL on psycopg's async pool (no thread
    hop, one pooled connection for the read); elsewhere in one worker thread."""
    return await reads.arun(_orders_document, viewer, user_id)


USER_COLUMNS = ("id", "email", "name", "age", "is_active", "is_staff")
USER_VALUES = ("id", "email", "name", "age")


def _may_read(viewer: User, user_id: int) -> bool:
    return may_see(viewer, user_id) and 0 < user_id <= MAX_ID


def _own_values(viewer: User) -> dict[str, Any]:
    return {"id": viewer.pk, "email": viewer.email, "name": viewer.name, "age": viewer.age}


def _own_row(viewer: User) -> UserRow:
    return (viewer.pk, viewer.email, viewer.name, viewer.age, viewer.is_active, viewer.is_staff)
