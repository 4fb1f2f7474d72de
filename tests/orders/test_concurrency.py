"""Races on a real PostgreSQL server: row locks, lock order, and the status machine under load.

Each worker thread has its own database connection (Django's connections are per thread) and
returns it to the pool when done. A barrier releases the threads together; nothing sleeps.
SQLite serialises writers, so these only run on PostgreSQL (see README: scripts/pg).
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import connection

from orders.exceptions import InsufficientStock, InvalidTransition
from orders.factories import OrderFactory, ProductFactory, UserFactory
from orders.models import Order, OrderEvent, OrderLine
from orders.services import LineItem, order_place, order_transition

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL (set DATABASE_URL)"
    ),
    pytest.mark.django_db(transaction=True),
]

# Long enough for a loaded CI machine, short enough that a deadlocked test fails instead of hanging.
TIMEOUT = 60


@dataclass
class Outcome:
    results: list[Any] = field(default_factory=list)
    errors: list[Exception] = field(default_factory=list)


def run_concurrently(workers: int, work: Callable[[int, int], Any], *, rounds: int = 1) -> Outcome:
    """Run work(worker, round) in `workers` threads that start each round together."""
    barrier = threading.Barrier(workers, timeout=TIMEOUT)
    outcome = Outcome()
    lock = threading.Lock()

    def worker(index: int) -> None:
        try:
            for round_ in range(rounds):
                barrier.wait()
                try:
                    result = work(index, round_)
                except Exception as exc:  # collected and asserted on by the test
                    with lock:
                        outcome.errors.append(exc)
                else:
                    with lock:
                        outcome.results.append(result)
        except threading.BrokenBarrierError as exc:
            with lock:
                outcome.errors.append(exc)
        finally:
            # This thread's connection goes back to the pool.
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a worker thread hung"
    return outcome


def test_twenty_buyers_never_get_more_than_the_five_units_in_stock():
    product = ProductFactory.create(stock=5)
    customers = UserFactory.create_batch(20)

    outcome = run_concurrently(
        20,
        lambda i, _: order_place(
            customer=customers[i], lines=[LineItem(product_id=product.pk, quantity=1)]
        ),
    )

    assert len(outcome.results) == 5
    assert len(outcome.errors) == 15
    assert all(isinstance(exc, InsufficientStock) for exc in outcome.errors), outcome.errors
    product.refresh_from_db()
    assert product.stock == 0
    assert Order.objects.count() == 5
    assert OrderLine.objects.filter(product=product).count() == 5
    assert {order.customer_id for order in outcome.results} == set(
        Order.objects.values_list("customer_id", flat=True)
    )


def test_orders_naming_the_same_products_in_opposite_orders_do_not_deadlock():
    a, b, c = ProductFactory.create_batch(3, stock=10_000)
    quantities = {a.pk: 1, b.pk: 2, c.pk: 3}
    forwards = [LineItem(product_id=p.pk, quantity=quantities[p.pk]) for p in (a, b, c)]
    backwards = list(reversed(forwards))
    workers, rounds = 16, 5
    customers = UserFactory.create_batch(workers)

    outcome = run_concurrently(
        workers,
        lambda i, _: order_place(
            customer=customers[i], lines=forwards if i % 2 == 0 else backwards
        ),
        rounds=rounds,
    )

    # No deadlock (psycopg's DeadlockDetected is an OperationalError) and no other failure.
    assert outcome.errors == []
    placed = workers * rounds
    assert len(outcome.results) == placed
    assert Order.objects.count() == placed
    for product in (a, b, c):
        product.refresh_from_db()
        assert product.stock == 10_000 - placed * quantities[product.pk]


def test_only_one_of_several_concurrent_cancellations_wins():
    customer = UserFactory.create()
    product = ProductFactory.create(stock=10)
    order = OrderFactory.create(customer=customer, lines=[(product, 3)])
    product.refresh_from_db()
    assert product.stock == 7
    workers = 8
    # One instance per thread: order_transition updates the one it is given in place.
    copies = [Order.objects.get(pk=order.pk) for _ in range(workers)]

    outcome = run_concurrently(
        workers,
        lambda i, _: order_transition(
            order=copies[i], to_status=Order.Status.CANCELLED, actor=customer
        ),
    )

    assert len(outcome.results) == 1
    assert len(outcome.errors) == workers - 1
    assert all(isinstance(exc, InvalidTransition) for exc in outcome.errors), outcome.errors
    product.refresh_from_db()
    assert product.stock == 10
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert OrderEvent.objects.filter(order=order, to_status=Order.Status.CANCELLED).count() == 1
