"""Two real server processes sharing Redis: an event caused on one reaches a socket on the other.

Both uvicorn processes use the test database (PostgreSQL: they are separate processes, so an
in-memory SQLite database could not be shared) and the REDIS_URL channel layer. The test waits
for each to answer HTTP, opens a socket on the first, and changes an order through the API of
the second.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from asgiref.sync import async_to_sync
from channels_redis.core import RedisChannelLayer
from django.conf import settings
from django.db import connection
from django.test import Client
from websockets.sync.client import connect
from websockets.typing import Origin

from orders.factories import ProductFactory
from users.services import token_issue

REDIS_URL = os.environ.get("REDIS_URL")

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL (set DATABASE_URL)"
    ),
    pytest.mark.skipif(not REDIS_URL, reason="needs a Redis server: set REDIS_URL (CI does)"),
    pytest.mark.django_db(transaction=True),
]

PROJECT = Path(__file__).resolve().parents[2]
# Starting Django in a fresh interpreter takes a second or two; a loaded CI machine, longer.
STARTUP_TIMEOUT = 60
TIMEOUT = 10


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url() -> str:
    """DATABASE_URL of the database this test runs on (pytest-django's test database)."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "127.0.0.1"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}@{host}{port}/{quote(db['NAME'], safe='')}"


def answers_http(server: Server) -> bool:
    try:
        with urllib.request.urlopen(f"{server.url}/login/", timeout=1):  # noqa: S310
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP answer means it is serving
    except OSError:
        return False


def wait_until_serving(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not answers_http(server):
        if server.process.poll() is not None:
            pytest.fail(f"the server on port {server.port} exited:\n{server.output()}")
        if time.monotonic() > deadline:
            pytest.fail(f"the server on port {server.port} did not answer:\n{server.output()}")
        time.sleep(0.1)  # polling for readiness, not synchronising on an event


def stop(server: Server) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(TIMEOUT)


async def flush_redis_layer() -> None:
    """Drop the channel layer's keys (and nothing else) left in Redis by earlier runs."""
    layer = RedisChannelLayer(hosts=[REDIS_URL])
    await layer.flush()
    await layer.close_pools()


@pytest.fixture
def servers(transactional_db: None, tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    """Two uvicorn processes on loopback; stopped (before the database is flushed) afterwards."""
    async_to_sync(flush_redis_layer)()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url(),
        "REDIS_URL": REDIS_URL or "",
        "DJANGO_DEBUG": "1",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    started: list[Server] = []
    try:
        for name in ("first", "second"):
            port = free_port()
            log = tmp_path / f"{name}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(  # noqa: S603 (a fixed command line)
                    [
                        sys.executable,
                        "-m",
                        "uvicorn",
                        "config.asgi:application",
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(port),
                        "--lifespan",
                        "off",
                        "--no-access-log",
                    ],
                    cwd=PROJECT,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            started.append(Server(process=process, port=port, log=log))
        for server in started:
            wait_until_serving(server)
        yield started[0], started[1]
    finally:
        for server in started:
            stop(server)


def api(server: Server, path: str, body: dict[str, Any], token: str) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 (a loopback URL built by the test)
        f"{server.url}{path}",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            return dict(json.load(response))
    except urllib.error.HTTPError as error:
        pytest.fail(f"POST {path}: {error.code} {error.read()!r}\n{server.output()}")


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
