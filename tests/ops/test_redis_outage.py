"""Redis going away under a running server, and coming back: what each client sees.

A uvicorn process on the test database (PostgreSQL) with `REDIS_URL` pointing at a Redis
server of the test's own, which the test stops and starts again on the same port:

- while Redis is down: `/readyz` is 503 naming Redis; every API read answers 200 (the
  throttles fail open, api/throttle.py); placing an order still commits and answers 201, and
  its undelivered event is logged (orders/events.py), not lost silently;
- once Redis is back: `/readyz` is 200 again, and a new socket hears the next order's event
  (the live page reconnects by itself and catches up by reloading its parts, live.js).
"""

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from websockets.sync.client import connect
from websockets.typing import Origin

from orders.factories import ProductFactory
from orders.models import Order
from tests.servers import UvicornProcess, free_port, poll, request, spawn_live
from users.models import User
from users.services import token_issue

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL (set DATABASE_URL)"
    ),
    pytest.mark.django_db(transaction=True),
]

TIMEOUT = 10
READS = [
    "/api/drf/users/{id}/orders",
    "/api/ninja/users/{id}/orders",
    "/api/plain/async/users/{id}/orders",
    "/api/plain/sync/users/{id}/orders",
    "/api/fast/users/{id}/orders",
]


class OwnRedis:
    """A redis-server on a free loopback port, stopped and started again on the same port."""

    def __init__(self) -> None:
        if shutil.which("redis-server") is None:
            pytest.fail("needs redis-server (apt-get install redis-server)")
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="orderdesk-redis-"))
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        options = {"port": str(self.port), "bind": "127.0.0.1", "save": "", "appendonly": "no"}
        options |= {"daemonize": "yes", "dir": str(self.dir), "logfile": "redis.log"}
        arguments = [part for name, value in options.items() for part in (f"--{name}", value)]
        subprocess.run(["redis-server", *arguments], check=True, timeout=TIMEOUT)  # noqa: S603, S607
        poll(self.answers, timeout=TIMEOUT)

    def stop(self) -> None:
        subprocess.run(  # noqa: S603
            ["redis-cli", "-p", str(self.port), "shutdown", "nosave"],  # noqa: S607
            check=False,
            capture_output=True,
            timeout=TIMEOUT,
        )
        poll(lambda: not self.answers(), timeout=TIMEOUT)

    def answers(self) -> bool:
        ping = subprocess.run(  # noqa: S603
            ["redis-cli", "-p", str(self.port), "ping"],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
            timeout=TIMEOUT,
        )
        return ping.stdout.strip() == "PONG"


@pytest.fixture
def redis_server() -> Iterator[OwnRedis]:
    server = OwnRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.dir, ignore_errors=True)


@pytest.fixture
def worker(redis_server: OwnRedis, tmp_path: Path) -> Iterator[UvicornProcess]:
    server = spawn_live(tmp_path, REDIS_URL=redis_server.url)
    try:
        server.wait_until_serving()
        yield server
    finally:
        server.stop()


def bearer(user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_issue(user=user)}"}


def place(server: UvicornProcess, headers: dict[str, str], product_id: int) -> dict[str, Any]:
    body = json.dumps({"lines": [{"product_id": product_id, "quantity": 1}]})
    reply = request(
        server.port,
        "POST",
        "/api/ninja/orders/",
        body=body,
        headers={**headers, "Content-Type": "application/json"},
    )
    assert reply.status == 201, (reply.status, reply.body, server.output())
    return dict(reply.json())


def readiness(server: UvicornProcess) -> tuple[int, dict[str, str]]:
    reply = request(server.port, "GET", "/readyz")
    return reply.status, reply.json()["checks"]


def test_a_redis_outage_keeps_the_api_answering_and_recovers(
    redis_server: OwnRedis, worker: UvicornProcess, customer: User
) -> None:
    headers = bearer(customer)
    product = ProductFactory.create(stock=10)
    browser = Client()
    browser.force_login(customer)
    cookie = f"{settings.SESSION_COOKIE_NAME}={browser.cookies[settings.SESSION_COOKIE_NAME].value}"
    assert readiness(worker) == (200, {"database": "ok", "redis": "ok"})

    redis_server.stop()

    assert readiness(worker) == (503, {"database": "ok", "redis": "unavailable"})
    for path in READS:
        reply = request(worker.port, "GET", path.format(id=customer.pk), headers=headers)
        assert reply.status == 200, (path, reply.status, reply.body[:300])
    during = place(worker, headers, product.pk)
    assert Order.objects.filter(pk=during["id"]).exists()  # committed, Redis or not
    assert "Could not send the created event of order" in worker.output()

    redis_server.start()
    poll(lambda: readiness(worker)[0] == 200, timeout=TIMEOUT * 3)

    with connect(
        f"ws://127.0.0.1:{worker.port}/ws/orders/",
        origin=Origin(f"http://127.0.0.1:{worker.port}"),
        additional_headers={"Cookie": cookie},
        open_timeout=TIMEOUT,
    ) as socket:
        after = place(worker, headers, product.pk)
        frame = json.loads(socket.recv(timeout=TIMEOUT))
    assert (frame["order_id"], frame["kind"]) == (after["id"], "created")
    # What the socket missed is there for the page to catch up on.
    reply = request(worker.port, "GET", f"/api/ninja/users/{customer.pk}/orders", headers=headers)
    assert {order["id"] for order in reply.json()["orders"]} >= {during["id"], after["id"]}
