"""Races on a real PostgreSQL server: row locks, lock order, and the status machine under load.

Each worker thread has its own database connection (Django's connections are per thread) and
returns it to the pool when done. A barrier releases the threads together; nothing sleeps.
SQLite serialises writers, so these only run on PostgreSQL (see README: scripts/pg).
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import connection, transaction

from orders.exceptions import (
    IdempotencyKeyReused,
    InsufficientStock,
    InvalidTransition,
    UnpaidUnitsLimit,
)
from orders.factories import OrderFactory, ProductFactory, UserFactory
from orders.models import Order, OrderEvent, OrderLine
from orders.services import LineItem, order_place, order_transition
from tests.servers import LIVE_POSTGRES

pytestmark = LIVE_POSTGRES

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


class InFlight:
    """Two placements in flight: the first holds its transaction open, the second runs into it."""

    def hold_first_open(self, customer, lines, key) -> tuple[threading.Event, Any]:
        """Place in a thread whose transaction stays open until the returned event is set."""
        release = threading.Event()
        placed = threading.Event()
        result: dict[str, Any] = {}

        def first() -> None:
            try:
                with transaction.atomic():
                    result["order"] = order_place(
                        customer=customer, lines=lines, idempotency_key=key
                    )
                    placed.set()
                    release.wait(TIMEOUT)
            finally:
                connection.close()

        thread = threading.Thread(target=first)
        thread.start()
        assert placed.wait(TIMEOUT)
        return release, (thread, result)

    def second_waits_on_a_lock(self) -> None:
        """Until another backend of this database waits on a lock (the second request)."""
        deadline = time.monotonic() + TIMEOUT
        with connection.cursor() as cursor:
            while time.monotonic() < deadline:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
                if cursor.fetchone()[0]:
                    return
                time.sleep(0.01)  # polling a condition, not waiting a fixed time
        pytest.fail("the second request never waited on the first's lock")

    def run_second(self, customer, lines, key) -> tuple[threading.Thread, dict[str, Any]]:
        outcome: dict[str, Any] = {}

        def second() -> None:
            try:
                outcome["order"] = order_place(customer=customer, lines=lines, idempotency_key=key)
            except Exception as error:  # asserted on by the test
                outcome["error"] = error
            finally:
                connection.close()

        thread = threading.Thread(target=second)
        thread.start()
        return thread, outcome


class TestOneCustomerTwoOrdersInFlight(InFlight):
    """The unpaid-units cap counts one customer's placements one after the other."""

    def test_the_second_order_waits_for_the_first_and_counts_its_units(self, settings):
        settings.ORDER_MAX_UNPAID_UNITS = 5
        customer = UserFactory.create()
        # Different products: the product locks do not serialise the two; the customer's does.
        pen, ink = ProductFactory.create(stock=5), ProductFactory.create(stock=5)
        release, (first, placed) = self.hold_first_open(
            customer, [LineItem(product_id=pen.pk, quantity=3)], None
        )
        second, outcome = self.run_second(customer, [LineItem(product_id=ink.pk, quantity=3)], None)
        self.second_waits_on_a_lock()
        release.set()
        first.join(TIMEOUT)
        second.join(TIMEOUT)

        assert isinstance(outcome.get("error"), UnpaidUnitsLimit), outcome
        assert list(Order.objects.values_list("pk", flat=True)) == [placed["order"].pk]
        ink.refresh_from_db()
        assert ink.stock == 5


class TestOneKeyTwoRequestsInFlight(InFlight):
    """`order_place`'s IntegrityError fallback: the second request with a key passed its replay
    check before the first committed, and meets the first's row at its insert."""

    def test_other_products_under_the_key_are_refused_as_reuse(self):
        customer = UserFactory.create()
        pen, ink = ProductFactory.create(stock=5), ProductFactory.create(stock=5)
        release, (first, placed) = self.hold_first_open(
            customer, [LineItem(product_id=pen.pk, quantity=1)], "one-key"
        )
        second, outcome = self.run_second(
            customer, [LineItem(product_id=ink.pk, quantity=1)], "one-key"
        )
        self.second_waits_on_a_lock()  # its insert waits on the first's uncommitted key
        release.set()
        first.join(TIMEOUT)
        second.join(TIMEOUT)

        assert isinstance(outcome.get("error"), IdempotencyKeyReused), outcome
        assert list(Order.objects.values_list("pk", flat=True)) == [placed["order"].pk]
        ink.refresh_from_db()
        assert ink.stock == 5  # the refused request took nothing

    def test_the_same_lines_under_the_key_replay_the_first_order(self):
        customer = UserFactory.create()
        pen = ProductFactory.create(stock=5)
        lines = [LineItem(product_id=pen.pk, quantity=1)]
        release, (first, placed) = self.hold_first_open(customer, lines, "one-key")
        second, outcome = self.run_second(customer, lines, "one-key")
        self.second_waits_on_a_lock()  # on the first's lock of the product row
        release.set()
        first.join(TIMEOUT)
        second.join(TIMEOUT)

        assert "error" not in outcome, outcome
        assert outcome["order"].pk == placed["order"].pk
        assert Order.objects.count() == 1
        pen.refresh_from_db()
        assert pen.stock == 4
