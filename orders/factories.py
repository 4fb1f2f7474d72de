"""factory-boy factories for every model, shared by the tests and `manage.py seed_demo`.

Orders are made through `order_place` and `order_transition`, so a factory-made order has the
same total, stock movements and history as a real one.
"""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import factory
from factory.django import DjangoModelFactory, Password

from users.models import User

from .models import Order, OrderEvent, Product
from .services import LineItem, order_place, order_transition

DEFAULT_PASSWORD = "correct-horse-battery-staple"  # noqa: S105 (test and demo users only)

# The moves that take a new (pending) order to each status.
STATUS_PATH: dict[str, list[str]] = {
    Order.Status.PENDING: [],
    Order.Status.PAID: [Order.Status.PAID],
    Order.Status.SHIPPED: [Order.Status.PAID, Order.Status.SHIPPED],
    Order.Status.DELIVERED: [Order.Status.PAID, Order.Status.SHIPPED, Order.Status.DELIVERED],
    Order.Status.CANCELLED: [Order.Status.CANCELLED],
}


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    name = factory.Faker("name")
    age = factory.Faker("random_int", min=18, max=90)
    password = Password(DEFAULT_PASSWORD)


class StaffFactory(UserFactory):
    email = factory.Sequence(lambda n: f"staff{n}@example.com")
    age = None  # type: ignore[assignment]
    is_staff = True


class ProductFactory(DjangoModelFactory[Product]):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Faker("catch_phrase")
    price = factory.Faker(
        "pydecimal", left_digits=3, right_digits=2, min_value=Decimal("0.50"), max_value=500
    )
    stock = 100
    is_active = True


class OrderFactory(factory.Factory[Order]):
    """An order placed through the domain layer.

    `lines` is a list of (product, quantity); `status` walks the machine from pending;
    `created_at` backdates the order and its history (for stale-order and report tests).
    """

    class Meta:
        model = Order

    customer = factory.SubFactory(UserFactory)
    lines = factory.LazyFunction(lambda: [(ProductFactory.create(), 1)])
    status = Order.Status.PENDING
    idempotency_key = None
    created_at = None

    @classmethod
    def _create(
        cls,
        model_class: type[Order],
        *args: Any,
        customer: User,
        lines: Sequence[tuple[Product, int]],
        status: str,
        idempotency_key: str | None,
        created_at: datetime | None,
        **kwargs: Any,
    ) -> Order:
        order = order_place(
            customer=customer,
            lines=[LineItem(product_id=product.pk, quantity=qty) for product, qty in lines],
            idempotency_key=idempotency_key,
        )
        for step in STATUS_PATH[status]:
            order_transition(order=order, to_status=step, actor=None)
        if created_at is not None:
            Order.objects.filter(pk=order.pk).update(created_at=created_at)
            OrderEvent.objects.filter(order=order).update(created_at=created_at)
            order.refresh_from_db()
        return order

    @classmethod
    def _build(cls, model_class: type[Order], *args: Any, **kwargs: Any) -> Order:
        raise NotImplementedError("Orders only exist once placed: use OrderFactory.create().")
