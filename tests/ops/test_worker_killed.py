"""A worker process killed mid-load (SIGKILL: no cleanup at all), and the clients retrying.

Thirty clients place an order each, with an `Idempotency-Key` of their own, on one uvicorn
worker; once the first answers are back the worker is killed while the rest are in flight.
Those clients see a connection error, which is retryable: each retries with its key on a new
worker. Afterwards every key has exactly one order, no order is half-written (each has its
line and its `created` event), and the stock taken is exactly the stock ordered.
"""

import json
import threading
from pathlib import Path
from typing import Any

from orders.factories import ProductFactory
from orders.models import Order, OrderEvent, OrderLine
from tests.servers import LIVE_POSTGRES, UvicornProcess, request, spawn_live
from users.models import User
from users.services import token_issue

pytestmark = LIVE_POSTGRES

CLIENTS = 30
KILL_AFTER = 5  # answers back before the worker is killed
TIMEOUT = 30


def place(port: int, token: str, key: str, product_id: int, quantity: int) -> int | None:
    """The status of one POST orders/, or None when the connection failed (retryable)."""
    body = json.dumps({"lines": [{"product_id": product_id, "quantity": quantity}]})
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Idempotency-Key": key,
    }
    path = "/api/ninja/orders/" if int(key.rsplit("-", 1)[1]) % 2 else "/api/drf/orders/"
    try:
        return request(port, "POST", path, body=body, headers=headers, timeout=TIMEOUT).status
    except OSError:  # refused, reset, or closed without an answer
        return None


def test_a_killed_worker_leaves_no_half_order_and_retries_place_exactly_one(
    tmp_path: Path, customer: User
) -> None:
    product = ProductFactory.create(price="2.00", stock=1000)
    token = token_issue(user=customer)
    quantity = {f"client-{n}": 1 + n % 3 for n in range(CLIENTS)}
    first: dict[str, int | None] = {}
    answered = threading.Condition()
    start = threading.Barrier(CLIENTS, timeout=TIMEOUT)

    worker: UvicornProcess = spawn_live(tmp_path)
    try:
        worker.wait_until_serving()

        def client(key: str) -> None:
            start.wait()
            status = place(worker.port, token, key, product.pk, quantity[key])
            with answered:
                first[key] = status
                answered.notify_all()

        threads = [threading.Thread(target=client, args=(key,)) for key in quantity]
        for thread in threads:
            thread.start()
        with answered:
            assert answered.wait_for(lambda: len(first) >= KILL_AFTER, timeout=TIMEOUT)
        worker.process.kill()  # SIGKILL: no shutdown, no cleanup
        worker.process.wait(TIMEOUT)
        for thread in threads:
            thread.join(TIMEOUT)
        assert not any(thread.is_alive() for thread in threads), "a client hung"
    finally:
        worker.stop()

    assert set(first.values()) <= {201, None}, first
    retry: dict[str, int | None] = {}
    replacement = spawn_live(tmp_path)
    try:
        replacement.wait_until_serving()
        for key, status in first.items():
            if status != 201:
                retry[key] = place(replacement.port, token, key, product.pk, quantity[key])
    finally:
        replacement.stop()

    assert set(retry.values()) <= {201}, retry
    orders = Order.objects.filter(customer=customer)
    keys = list(orders.values_list("idempotency_key", flat=True))
    assert sorted(str(key) for key in keys) == sorted(quantity)  # one order per key
    for order in orders:
        assert OrderLine.objects.filter(order=order).count() == 1, order.pk
        assert OrderEvent.objects.filter(order=order, kind="created").count() == 1, order.pk
    product.refresh_from_db()
    assert product.stock == 1000 - sum(quantity.values())
    summary: dict[str, Any] = {
        "answered before the kill": sum(status == 201 for status in first.values()),
        "retried": len(retry),
    }
    print(summary)  # noqa: T201 (shown with -s: how many were in flight)
