"""Reads of the order domain. They return querysets so sync and async callers share them."""

from datetime import datetime

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from users.models import User

from .exceptions import OrderNotFound
from .models import Order, OrderQuerySet, Product


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
    """All orders (or `orders`), filtered by status and a half-open creation window."""
    qs = Order.objects.all() if orders is None else orders
    if status:
        qs = qs.filter(status=status)
    if created_from is not None:
        qs = qs.filter(created_at__gte=created_from)
    if created_to is not None:
        qs = qs.filter(created_at__lt=created_to)
    return qs.newest_first().with_lines()


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


def products_visible_to(*, user: User | AnonymousUser) -> QuerySet[Product]:
    """Staff see every product, everyone else the active ones; ordered by SKU."""
    products = Product.objects.all() if user.is_staff else Product.objects.filter(is_active=True)
    return products.order_by("sku", "id")
