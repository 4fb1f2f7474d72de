"""The hot async reads on psycopg's async pool (runtime/asyncdb.py), through a live server.

In-process tests run those reads on Django's connection (`ASYNC_DB = "django"`, where the test
transaction is); a server with the production settings runs them on the async pool. This
serves `GET users/{id}/orders` from uvicorn with committed rows and checks each async style
against DRF's answer and the contract's refusals.
"""

from pathlib import Path
from typing import Any

from django.utils import timezone

from orders.factories import OrderFactory, ProductFactory, StaffFactory, UserFactory
from tests.servers import LIVE_POSTGRES, UvicornProcess, live_server, request
from users.models import Token, token_lifetime
from users.services import token_issue, token_revoke

pytestmark = LIVE_POSTGRES

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
    expired = token_issue(user=customer, client="expired")
    Token.objects.filter(client="expired").update(created_at=timezone.now() - token_lifetime())
    revoked = token_issue(user=customer, client="revoked")
    token_revoke(key=revoked)
    changed = UserFactory.create()
    voided = token_issue(user=changed)
    changed.set_password("another-long-passphrase")
    changed.save()
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
            for dead in (expired, revoked, voided):
                assert get(server, path, dead)[0] == 401, prefix
            assert get(server, path, None)[0] == 401, prefix
            unknown = f"{prefix}users/999999999/orders"
            assert get(server, unknown, tokens[staff.pk])[0] == 404, prefix
        log = server.output()
    assert "Traceback" not in log, log


def test_the_hot_path_worker_serves_the_fast_path_alone(tmp_path: Path) -> None:
    """config.asgi_hot: the monolith's answers on the fast path; elsewhere only the probes."""
    customer, other, staff = UserFactory.create(), UserFactory.create(), StaffFactory.create()
    product = ProductFactory.create(stock=100)
    OrderFactory.create(customer=customer, lines=[(product, 2)])
    own = f"/api/fast/users/{customer.pk}/orders"
    tokens = [token_issue(user=user) for user in (customer, staff, other)] + ["x", None]

    def answers(server: UvicornProcess) -> list[tuple[int, Any]]:
        return [get(server, own, token) for token in tokens]

    with live_server(tmp_path, ASYNC_DB="psycopg") as monolith:
        expected = answers(monolith)
    assert [status for status, _ in expected] == [200, 200, 404, 401, 401]
    assert len(expected[0][1]["orders"]) == 1

    hot_app = "config.asgi_hot:application"
    with live_server(tmp_path, application=hot_app, ASYNC_DB="psycopg") as hot:
        assert answers(hot) == expected
        for path in ("/api/drf/products/", "/api/ninja/products/", "/admin/", "/"):
            assert request(hot.port, "GET", path).status == 404, path
        assert request(hot.port, "GET", "/healthz").status == 200
        log = hot.output()
    assert "Traceback" not in log, log
