from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache

from orders.factories import OrderFactory, ProductFactory, StaffFactory, UserFactory
from orders.models import Order, Product
from users.models import User


@pytest.fixture
def customer(db: None) -> User:
    return UserFactory.create()


@pytest.fixture
def other_customer(db: None) -> User:
    return UserFactory.create()


@pytest.fixture
def staff(db: None) -> User:
    return StaffFactory.create()


@pytest.fixture
def product(db: None) -> Product:
    return ProductFactory.create(stock=10)


@pytest.fixture
def make_order(db: None) -> Callable[..., Order]:
    """Place an order through the domain layer; keyword arguments as OrderFactory takes."""

    def make(**kwargs: Any) -> Order:
        return OrderFactory.create(**kwargs)

    return make


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Throttle counters live in the cache: each test starts with none."""
    cache.clear()
    yield
    cache.clear()
