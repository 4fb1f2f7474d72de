"""Nothing lost under load: hundreds of orders from fifty clients through a real ASGI server.

A uvicorn process serves the project (config.asgi) on loopback against the test database
(PostgreSQL: rows are written by another process, and SQLite serialises writers anyway). Fifty
client threads place orders over HTTP in both API styles, some with idempotency keys (each
keyed request is sent twice, the second time in the other style), some for products that run
out. Afterwards every answer is reconciled with the database, and the server's connections
must be back within its pool's bounds, all idle.
"""

import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from orders.factories import ProductFactory, UserFactory
from orders.models import Order, OrderEvent, OrderLine, Product
from tests import servers
from tests.servers import UvicornProcess, post_json
from users.services import token_issue

pytestmark = servers.LIVE_POSTGRES

STYLES = ("/api/drf/", "/api/ninja/")
CLIENTS = 50
PLACEMENTS_PER_CLIENT = 10
KEYED_EVERY = 3  # every third placement carries an Idempotency-Key and is sent twice
POOL_MIN, POOL_MAX = 2, 8
# A process holds two pools of those bounds: Django's, for sync code and the ORM, and
# runtime.asyncdb's, for the hot async reads (the token lookup of every async API request).
CONNECTIONS_MAX = 2 * POOL_MAX
# Per request, and for the server to settle afterwards; a loaded CI machine is slow.
TIMEOUT = 60
PLENTY, SCARCE = 5_000, 12


# --- A live server with a pool of known bounds ------------------------------------------------


@contextmanager
def live_server(log_dir: Path, **env: str) -> Iterator[UvicornProcess]:
    """tests.servers.live_server with a pool of POOL_MIN..POOL_MAX connections."""
    with servers.live_server(
        log_dir,
        DB_POOL_MIN_SIZE=str(POOL_MIN),
        DB_POOL_MAX_SIZE=str(POOL_MAX),
        DB_POOL_TIMEOUT=str(TIMEOUT),
        **env,
    ) as server:
        yield server


def server_connections(application_name: str) -> Counter[str]:
    """The server's connections to the test database, counted by state (`idle`, `active`...)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(state, ''), count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = %s GROUP BY 1",
            [application_name],
        )
        return Counter(dict(cursor.fetchall()))


# --- The load ---------------------------------------------------------------------------------


@dataclass
class Attempt:
    client: int
    style: str
    lines: list[tuple[int, int]]
    key: str | None
    retry: bool
    status: int
    body: Any


@dataclass
class Shop:
    """What the clients buy from, and who they are."""

    starting_stock: dict[int, int]
    plenty: list[int]
    scarce: list[int]
    customer_ids: list[int]
    tokens: list[str]


@dataclass
class LoadRun:
    attempts: list[Attempt]
    duration: float
    peak_connections: int
    settled_connections: Counter[str]


def plan(client: int, shop: Shop) -> list[list[tuple[int, int]]]:
    """A client's placements: 1-3 lines each (a product may repeat), 2 in 5 touch a scarce one."""
    rng = random.Random(client)  # noqa: S311 (reproducible test data, not security)
    placements = []
    for _ in range(PLACEMENTS_PER_CLIENT):
        lines = [(rng.choice(shop.plenty), rng.randint(1, 3)) for _ in range(rng.randint(1, 3))]
        if rng.random() < 0.4:
            scarce = (rng.choice(shop.scarce), rng.randint(1, 3))
            lines.insert(rng.randrange(len(lines) + 1), scarce)
        placements.append(lines)
    return placements


def merged(lines: list[tuple[int, int]]) -> dict[int, int]:
    quantities: Counter[int] = Counter()
    for product_id, quantity in lines:
        quantities[product_id] += quantity
    return dict(quantities)


def run_clients(base: str, shop: Shop) -> list[Attempt]:
    """CLIENTS threads, released together, each placing its plan one request after another."""
    plans = [plan(i, shop) for i in range(CLIENTS)]
    attempts: list[Attempt] = []
    lock = threading.Lock()
    start = threading.Barrier(CLIENTS, timeout=TIMEOUT)

    def client(index: int) -> None:
        start.wait()
        for number, lines in enumerate(plans[index]):
            body = {"lines": [{"product_id": pid, "quantity": qty} for pid, qty in lines]}
            key = f"load-{index}-{number}" if number % KEYED_EVERY == 0 else None
            sends = [(STYLES[(index + number) % 2], False)]
            if key is not None:  # the retry of a client that missed the answer, other style
                sends.append((STYLES[(index + number + 1) % 2], True))
            for style, retry in sends:
                status, answer = post_json(
                    base, f"{style}orders/", body, token=shop.tokens[index], key=key
                )
                with lock:
                    attempts.append(Attempt(index, style, lines, key, retry, status, answer))

    with ThreadPoolExecutor(CLIENTS, thread_name_prefix="load-client") as pool:
        for future in [pool.submit(client, i) for i in range(CLIENTS)]:
            future.result()
    return attempts


def run_load(server: UvicornProcess, shop: Shop) -> LoadRun:
    """The clients' run, sampling the server's connections; then wait for them to settle."""
    peak = 0
    sampling = threading.Event()

    def sample_connections() -> None:
        nonlocal peak
        try:
            while not sampling.wait(0.05):  # a sampling interval, not a synchronisation
                peak = max(peak, server_connections(server.application_name).total())
        finally:
            connection.close()

    sampler = threading.Thread(target=sample_connections, name="pg-sampler")
    sampler.start()
    began = time.monotonic()
    try:
        attempts = run_clients(server.url, shop)
    finally:
        duration = time.monotonic() - began
        sampling.set()
        sampler.join(TIMEOUT)

    # The connections go back to the pool: within its bounds, none busy or mid-transaction.
    deadline = time.monotonic() + TIMEOUT
    while True:
        states = server_connections(server.application_name)
        if POOL_MIN <= states.total() <= CONNECTIONS_MAX and set(states) == {"idle"}:
            break
        if time.monotonic() > deadline:
            pytest.fail(f"the server holds {dict(states)}, not {POOL_MIN}..{CONNECTIONS_MAX} idle")
        time.sleep(0.1)  # polling the server's state, with a deadline
    return LoadRun(attempts, duration, peak, states)


def placed_orders(attempts: list[Attempt]) -> dict[int, Attempt]:
    """The order each new 201 placed, by id; a retry after a 201 must replay it exactly."""
    statuses = Counter(attempt.status for attempt in attempts)
    assert set(statuses) <= {201, 409}, [a for a in attempts if a.status not in {201, 409}][:5]
    refusals = [attempt for attempt in attempts if attempt.status == 409]
    assert {attempt.body["code"] for attempt in refusals} == {"insufficient_stock"}

    first_by_key: dict[tuple[int, str | None], Attempt] = {
        (a.client, a.key): a for a in attempts if a.key and not a.retry
    }
    placed: dict[int, Attempt] = {}
    for attempt in attempts:
        first = first_by_key[(attempt.client, attempt.key)] if attempt.retry else None
        if first is not None and first.status == 201:
            assert (attempt.status, attempt.body) == (201, first.body)
        elif attempt.status == 201:
            assert attempt.body["id"] not in placed, attempt
            placed[attempt.body["id"]] = attempt
    return placed


def check_database(placed: dict[int, Attempt], shop: Shop) -> dict[str, int]:
    """Every placed order is in the database as answered, and nothing else; counts checked."""
    orders = Order.objects.prefetch_related("lines", "events").in_bulk(list(placed))
    assert sorted(orders) == sorted(Order.objects.values_list("pk", flat=True)) == sorted(placed)
    prices = dict(Product.objects.values_list("pk", "price"))
    for order_id, attempt in placed.items():
        order = orders[order_id]
        lines = {line.product_id: line.quantity for line in order.lines.all()}
        assert (order.customer_id, lines) == (
            shop.customer_ids[attempt.client],
            merged(attempt.lines),
        )
        assert order.total == sum((prices[pid] * qty for pid, qty in lines.items()), Decimal(0))
        events = [(event.kind, event.to_status, event.actor_id) for event in order.events.all()]
        assert events == [(OrderEvent.Kind.CREATED, "pending", order.customer_id)]
    lines_count = OrderLine.objects.count()
    assert lines_count == sum(len(merged(attempt.lines)) for attempt in placed.values())
    events_count = OrderEvent.objects.count()
    assert events_count == len(placed)

    # What is left plus what was sold is what there was.
    sold: Counter[int] = Counter()
    for product_id, quantity in OrderLine.objects.values_list("product_id", "quantity"):
        sold[product_id] += quantity
    left = dict(Product.objects.values_list("pk", "stock"))
    assert {pid: left[pid] + sold[pid] for pid in shop.starting_stock} == shop.starting_stock
    return {"orders": len(orders), "lines": lines_count, "events": events_count}


@pytest.fixture
def shop(transactional_db: None) -> Shop:
    plenty = ProductFactory.create_batch(6, stock=PLENTY, price="3.25")
    scarce = ProductFactory.create_batch(4, stock=SCARCE, price="19.99")
    customers = UserFactory.create_batch(CLIENTS)
    return Shop(
        starting_stock={product.pk: product.stock for product in [*plenty, *scarce]},
        plenty=[product.pk for product in plenty],
        scarce=[product.pk for product in scarce],
        customer_ids=[customer.pk for customer in customers],
        tokens=[token_issue(user=customer) for customer in customers],
    )


def test_hundreds_of_concurrent_placements_lose_nothing_and_give_the_connections_back(
    shop: Shop, tmp_path: Path, capsys: pytest.CaptureFixture[str], record_property: Any
) -> None:
    with live_server(tmp_path) as server:
        run = run_load(server, shop)
        log = server.output()
    assert "Traceback" not in log, log
    assert run.peak_connections <= CONNECTIONS_MAX, f"{run.peak_connections}: over the pools"

    placed = placed_orders(run.attempts)
    checked = check_database(placed, shop)

    statuses = Counter(attempt.status for attempt in run.attempts)
    assert len(run.attempts) >= CLIENTS * PLACEMENTS_PER_CLIENT
    assert statuses[409], "no placement was refused: the scarce products never ran out"
    summary = (
        f"load: {len(run.attempts)} requests from {CLIENTS} clients in {run.duration:.1f} s "
        f"({len(run.attempts) / run.duration:.0f}/s): {statuses[201]} x 201 "
        f"({len(placed)} orders, {statuses[201] - len(placed)} replays), {statuses[409]} x 409; "
        f"checked {checked['orders']} orders, {checked['lines']} lines, {checked['events']} "
        f"events, {len(shop.starting_stock)} products; server connections: peak "
        f"{run.peak_connections}, after {dict(run.settled_connections)} "
        f"(two pools of {POOL_MIN}..{POOL_MAX})"
    )
    record_property("load", summary)
    with capsys.disabled():
        sys.stdout.write(f"\n{summary}\n")
