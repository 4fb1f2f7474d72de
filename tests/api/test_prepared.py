"""runtime.prepared: a queryset compiled once answers as the queryset itself does.

Tripwires for what `PreparedValues` assumes of Django (its docstring says what to re-read):
the SQL `sql_with_params()` writes for other arguments differs only in its parameters, and on
PostgreSQL the rows need no converters.
"""

import asyncio
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync
from django.db import connection

from orders.factories import OrderFactory, ProductFactory
from orders.models import Order
from orders.selectors import LINE_ROWS, ORDER_ROWS
from runtime import asyncdb
from runtime.prepared import PreparedValues

pytestmark = pytest.mark.django_db

PREPARED = {"orders": ORDER_ROWS, "lines": LINE_ROWS}
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL (set DATABASE_URL)"
)


@pytest.fixture
def buyer(customer):
    pen = ProductFactory.create(price=Decimal("1.50"), stock=100)
    ink = ProductFactory.create(price=Decimal("12.00"), stock=100)
    OrderFactory.create(customer=customer, lines=[(pen, 2), (ink, 1)], status="paid")
    OrderFactory.create(customer=customer, lines=[(ink, 3)])
    OrderFactory.create(lines=[(pen, 1)])  # someone else's
    return customer


def queryset_rows(prepared: PreparedValues, customer_id: int) -> list[dict]:
    """What the ORM itself answers: the built queryset's `.values()`, in `keys` order."""
    return [
        {key: row[key] for key in prepared.keys} for row in prepared.build(customer_id=customer_id)
    ]


@pytest.mark.parametrize("name", list(PREPARED))
def test_rows_are_the_querysets_own(name, buyer):
    prepared = PREPARED[name]
    rows = prepared.rows(customer_id=buyer.pk)
    assert rows == queryset_rows(prepared, buyer.pk)
    assert len(rows) == (2 if name == "orders" else 3)
    assert all(list(row) == list(prepared.keys) for row in rows)


@pytest.mark.parametrize("name", list(PREPARED))
def test_a_customer_without_orders_has_no_rows(name, other_customer):
    assert PREPARED[name].rows(customer_id=other_customer.pk) == []


@pytest.mark.parametrize("name", list(PREPARED))
def test_async_rows_are_the_sync_ones(name, buyer):
    prepared = PREPARED[name]
    # async_to_sync: the ORM's thread hop comes back to this thread, which holds the test's rows.
    rows = async_to_sync(prepared.arows)(customer_id=buyer.pk)
    assert rows == prepared.rows(customer_id=buyer.pk)


@pytest.mark.parametrize("name", list(PREPARED))
def test_the_sql_is_the_querysets_sql_for_any_argument(name, buyer):
    """Tripwire: a new Django that wrote the SQL differently per argument would fail here."""
    prepared = PREPARED[name]
    sql, arguments = prepared.compiled()
    fresh_sql, params = prepared.queryset(customer_id=buyer.pk).query.sql_with_params()
    assert fresh_sql == sql
    assert list(params) == [buyer.pk] * len(arguments)


@on_postgresql
@pytest.mark.parametrize("name", list(PREPARED))
def test_postgresql_rows_need_no_converters(name):
    """Tripwire: the prepared rows skip Django's converters, so there must be none."""
    compiler = PREPARED[name].queryset(customer_id=1).query.get_compiler(using="default")
    compiler.as_sql()
    assert compiler.get_converters([column for column, _, _ in compiler.select]) == {}


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_compiling_opens_no_connection():
    """`arows` compiles on the event loop, where opening a connection is not allowed."""
    connection.close()
    prepared = PreparedValues(
        lambda customer_id: Order.objects.filter(customer_id=customer_id).values("id"),
        ["id"],
        ["customer_id"],
    )
    prepared.compiled()
    assert connection.connection is None


def test_a_parameter_that_is_not_an_argument_is_refused():
    prepared = PreparedValues(
        lambda customer_id: Order.objects.filter(customer_id=customer_id, total__gte=5).values(
            "id"
        ),
        ["id"],
        ["customer_id"],
    )
    with pytest.raises(ValueError, match="not placeholders"):
        prepared.compiled()


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_async_rows_run_on_the_psycopg_pool(settings, buyer):
    settings.ASYNC_DB = "psycopg"

    async def scenario() -> list[dict]:
        try:
            return await LINE_ROWS.arows(customer_id=buyer.pk)
        finally:
            await asyncdb.aclose_pools()

    assert asyncio.run(scenario()) == queryset_rows(LINE_ROWS, buyer.pk)
