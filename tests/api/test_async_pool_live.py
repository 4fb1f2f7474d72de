"""The hot async reads on psycopg's async pool (config/asyncdb.py), through a live server.

In-process tests run those reads on Django's connection (`ASYNC_DB = "django"`, where the test
transaction is); a server with the production settings runs them on the async pool. This
serves `GET users/{id}/orders` from uvicorn with committed rows and checks each async style
against DRF's answer and the contract's refusals.
"""

from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from orders.factories import OrderFactory, ProductFactory, StaffFactory, UserFactory
from tests.servers import UvicornProcess, live_server, request
from users.services import token_issue

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL (set DATABASE_URL)"
    ),
    pytest.mark.django_db(transaction=True),
]

ASYNC_STYLES = ["/api/fast/", "/api/ninja/", "/api/plain/async/"]


def get(server: UvicornProcess, path: str, token: str | None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    reply = request(server.port, "GET", path, headers=headers)
    return reply.status, reply.json()


def test_async_styles_answer_as_drf_does_on_the_async_pool(tmp_path: Path) -> None:
    customer, other, staff = UserFactory.create(), UserFactory.create(), StaffFactory.create()
    product = ProductFactory.create(stock=100)
    for quantity in (1, 2, 3):
        OrderFactory.create(customer=customer, lines=[(product, quantity)])
    tokens = {user.pk: token_issue(user=user) for user in (customer, other, staff)}
    own = f"users/{customer.pk}/orders"

    with live_server(tmp_path, ASYNC_DB="psycopg") as server:
        status, expected = get(server, f"/api/drf/{own}", tokens[customer.pk])
        assert status == 200
        assert len(expected["orders"]) == 3
        for prefix in ASYNC_STYLES:
            path = f"{prefix}{own}"
            assert get(server, path, tokens[customer.pk]) == (200, expected), prefix
            assert get(server, path, tokens[staff.pk]) == (200, expected), prefix
            assert get(server, path, tokens[other.pk])[0] == 404, prefix
            assert get(server, path, "not-a-token")[0] == 401, prefix
            assert get(server, path, None)[0] == 401, prefix
            unknown = f"{prefix}users/999999999/orders"
            assert get(server, unknown, tokens[staff.pk])[0] == 404, prefix
        log = server.output()
    assert "Traceback" not in log, log
