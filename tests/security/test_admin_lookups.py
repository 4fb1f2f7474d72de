"""Changelist filters a staff member's URL carries: out of range is a 400, never a 500.

Found by the black-box test of issue 14: `?created_at__year=99999999999` on the orders list
was a 500 (the date hierarchy's arithmetic overflowed); so were a year of 9999 (its "next
year" does not exist), a month of 13 on a product's date, and, on PostgreSQL, a NUL in any
text filter. runtime/admin_lookups.py refuses them before the query is built.
"""

from datetime import UTC, datetime

import pytest
from django.test import Client

from orders.factories import OrderFactory, UserFactory
from runtime.admin_lookups import lookup_value_problem

pytestmark = pytest.mark.django_db

ORDERS, PRODUCTS, USERS = "/admin/orders/order/", "/admin/orders/product/", "/admin/users/user/"

OUT_OF_RANGE = [
    (ORDERS, "created_at__year=99999999999"),
    (ORDERS, "created_at__year=9999"),
    (ORDERS, "created_at__year=9998&created_at__month=99999999999999999999"),
    (ORDERS, "created_at__year=2026&created_at__month=13"),
    (ORDERS, "created_at__year=2026&created_at__month=2&created_at__day=0"),
    (ORDERS, "created_at__year=many"),
    (ORDERS, "status__exact=paid%00"),
    (PRODUCTS, "created_at__year=0"),
    (PRODUCTS, "created_at__year=-5"),
    (PRODUCTS, "updated_at__year__in=2026,99999999999"),
    (PRODUCTS, "updated_at__hour__gte=24"),
    (PRODUCTS, "sku=%00"),
    (USERS, "joined_at__year=99999999999"),
    (USERS, "email__startswith=%00"),
]


@pytest.fixture
def staff_client(client: Client) -> Client:
    client.force_login(UserFactory.create(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(("path", "query"), OUT_OF_RANGE)
def test_an_out_of_range_filter_is_a_400(staff_client: Client, path: str, query: str) -> None:
    OrderFactory.create()

    response = staff_client.get(f"{path}?{query}")

    assert response.status_code == 400


def test_filters_in_range_still_filter(staff_client: Client) -> None:
    old = OrderFactory.create(created_at=datetime(2024, 12, 31, 23, 0, tzinfo=UTC))
    new = OrderFactory.create(created_at=datetime(2025, 1, 1, 1, 0, tzinfo=UTC))

    response = staff_client.get(f"{ORDERS}?created_at__year=2025&created_at__month=1")

    assert response.status_code == 200
    shown = list(response.context["cl"].result_list)
    assert shown == [new]
    assert old not in shown
    edge = staff_client.get(f"{ORDERS}?created_at__year=9998&created_at__month=12")
    assert edge.status_code == 200
    assert list(edge.context["cl"].result_list) == []


@pytest.mark.parametrize(
    ("lookup", "value", "problem"),
    [
        ("created_at__year", "2026", None),
        ("created_at__year__gte", "9999", "year must be from 1 to 9998"),
        ("created_at__month", "12", None),
        ("created_at__week_day", "0", "week_day must be from 1 to 7"),
        ("created_at__year__isnull", "maybe", None),
        ("created_at__year__in", "2025,x", "year must be a whole number"),
        ("total__gte", "99999999999", None),
        ("name__icontains", "caf\u00e9", None),
        ("name__icontains", "a\x00", "a NUL or a character that cannot be encoded"),
    ],
)
def test_the_rule(lookup: str, value: str, problem: str | None) -> None:
    assert lookup_value_problem(lookup, value) == problem
