"""Two real server processes sharing Redis: an event caused on one reaches a socket on the other.

Both uvicorn processes use the test database (PostgreSQL: they are separate processes, so an
in-memory SQLite database could not be shared) and the REDIS_URL channel layer. The test waits
for each to answer HTTP, opens a socket on the first, and changes an order through the API of
the second.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels_redis.core import RedisChannelLayer
from django.conf import settings
from django.test import Client
from websockets.sync.client import connect
from websockets.typing import Origin

from orders.factories import ProductFactory
from tests.servers import LIVE_POSTGRES_AND_REDIS, REDIS_URL, UvicornProcess, request, spawn_live
from users.services import token_issue

pytestmark = LIVE_POSTGRES_AND_REDIS

TIMEOUT = 10


async def flush_redis_layer() -> None:
    """Drop the channel layer's keys (and nothing else) left in Redis by earlier runs."""
    layer = RedisChannelLayer(hosts=[REDIS_URL])
    await layer.flush()
    await layer.close_pools()


@pytest.fixture
def servers(
    transactional_db: None, tmp_path: Path
) -> Iterator[tuple[UvicornProcess, UvicornProcess]]:
    """Two uvicorn processes on loopback; stopped (before the database is flushed) afterwards."""
    async_to_sync(flush_redis_layer)()
    started: list[UvicornProcess] = []
    try:
        for _ in range(2):  # both start before either is waited for; each is stopped
            started.append(spawn_live(tmp_path, REDIS_URL=REDIS_URL or ""))  # noqa: PERF401
        for server in started:
            server.wait_until_serving()
        yield started[0], started[1]
    finally:
        for server in started:
            server.stop()


def api(server: UvicornProcess, path: str, body: dict[str, Any], token: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    reply = request(
        server.port, "POST", path, body=json.dumps(body), headers=headers, timeout=TIMEOUT
    )
    if not 200 <= reply.status < 300:
        pytest.fail(f"POST {path}: {reply.status} {reply.body!r}\n{server.output()}")
    return dict(reply.json())


def test_an_order_changed_through_one_server_reaches_a_socket_held_by_the_other(servers, customer):
    first, second = servers
    product = ProductFactory.create(price="6.25", stock=10)
    client = Client()
    client.force_login(customer)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    token = token_issue(user=customer)

    with connect(
        f"ws://127.0.0.1:{first.port}/ws/orders/",
        origin=Origin(f"http://127.0.0.1:{first.port}"),
        additional_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}"},
        open_timeout=TIMEOUT,
    ) as ws:
        order = api(
            second,
            "/api/ninja/orders/",
            {"lines": [{"product_id": product.pk, "quantity": 2}]},
            token,
        )
        created = json.loads(ws.recv(timeout=TIMEOUT))
        api(second, f"/api/ninja/orders/{order['id']}/transition", {"status": "paid"}, token)
        changed = json.loads(ws.recv(timeout=TIMEOUT))

    assert (created["order_id"], created["kind"], created["status"], created["total"]) == (
        order["id"],
        "created",
        "pending",
        "12.50",
    )
    assert (changed["order_id"], changed["from_status"], changed["status"]) == (
        order["id"],
        "pending",
        "paid",
    )
    assert changed["actor"] == customer.email
