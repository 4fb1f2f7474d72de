"""Reads of the order domain. They return querysets so sync and async callers share them."""

from datetime import UTC, datetime, timedelta
from typing import Literal

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from users.models import User

from .exceptions import OrderNotFound
from .models import Order, OrderEvent, OrderQuerySet, Product


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
