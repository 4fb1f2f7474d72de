from collections.abc import Callable
from typing import Any

import pytest

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
