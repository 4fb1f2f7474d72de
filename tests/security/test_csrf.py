"""API8: a write authenticated by the session cookie needs the CSRF token, in every style.

A browser sends the session cookie with any request, a forged cross-site one included; only
the CSRF token (which another site cannot read) proves the page is ours. A bearer token is
not sent by the browser on its own, so token clients need no CSRF token.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client

from orders.factories import DEFAULT_PASSWORD, OrderFactory
from orders.models import Order, Product
from tests.api.conftest import ALL_STYLES, FULL_STYLES, STYLES
from tests.api.test_contract import snapshot
from users.models import Token, User
from users.services import token_issue

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Write:
    """One unsafe operation: who may do it, and the status it answers on success."""

    method: str
    path: str
    body: Callable[["Case"], dict]
    who: str
    success: int


NEW_USER = {"email": "new@example.com", "name": "New", "age": 30, "password": "x-long-passphrase"}
WRITES = {
    "place-order": Write(
        "POST",
        "orders/",
        lambda c: {"lines": [{"product_id": c.product.pk, "quantity": 1}]},
        "staff",
        201,
    ),
    "transition": Write(
        "POST", "orders/{order}/transition", lambda _: {"status": "paid"}, "staff", 200
    ),
    "create-product": Write(
        "POST",
        "products/",
        lambda _: {"sku": "N-1", "name": "N", "price": "1.00", "stock": 1},
        "staff",
        201,
    ),
    "change-product": Write("PATCH", "products/{product}", lambda _: {"stock": 3}, "staff", 200),
    "sign-up": Write("POST", "users/", lambda _: NEW_USER, "customer", 201),
    "issue-token": Write(
        "POST",
        "auth/token",
        lambda c: {"email": c.user.email, "password": DEFAULT_PASSWORD},
        "customer",
        200,
    ),
}
OPEN_WRITES = ("sign-up", "issue-token")
# Each style with the writes it serves. Sign-up and the token are open, but a logged-in
# browser's post to them is a session write all the same (ninja's operations check it
# themselves: `auth=None`).
CASES = [
    *((style, name) for style in FULL_STYLES for name in WRITES if name not in OPEN_WRITES),
    *((style, name) for style in ALL_STYLES for name in OPEN_WRITES),
]


@pytest.fixture
def browser_client() -> Client:
    """A test client that enforces CSRF as Django does for a real browser."""
    return Client(enforce_csrf_checks=True)


@dataclass(frozen=True)
class Case:
    """One write in one style, with the user who may make it and the objects it names."""

    style: str
    write: Write
    user: User
    product: Product
    order: Order

    def send(self, client: Client, **headers: str):
        path = self.write.path.format(order=self.order.pk, product=self.product.pk)
        return client.generic(
            self.write.method,
            STYLES[self.style] + path,
            json.dumps(self.write.body(self)),
            content_type="application/json",
            headers=headers,
        )


@pytest.fixture(params=CASES, ids="-".join)
def case(request, customer, staff, product) -> Case:
    style, name = request.param
    write = WRITES[name]
    return Case(
        style=style,
        write=write,
        user={"customer": customer, "staff": staff}[write.who],
        product=product,
        order=OrderFactory.create(customer=staff, lines=[(product, 1)]),
    )


def csrf_token(browser_client: Client) -> str:
    """The CSRF cookie's value, set as any of our pages with a form sets it."""
    browser_client.get("/")  # its log-out form
    return browser_client.cookies["csrftoken"].value


class TestSessionWrites:
    def test_are_refused_without_the_csrf_token(self, browser_client, case):
        browser_client.force_login(case.user)
        before = snapshot()

        response = case.send(browser_client)

        assert response.status_code == 403, response.content
        assert "CSRF" in response.json()["detail"]
        assert snapshot() == before
        assert not Token.objects.exists()

    def test_are_refused_with_a_wrong_csrf_token(self, browser_client, case):
        browser_client.force_login(case.user)
        csrf_token(browser_client)
        before = snapshot()

        response = case.send(browser_client, **{"X-CSRFToken": "b" * 32})

        assert response.status_code == 403
        assert snapshot() == before
        assert not Token.objects.exists()

    def test_pass_with_the_csrf_token(self, browser_client, case):
        browser_client.force_login(case.user)

        response = case.send(browser_client, **{"X-CSRFToken": csrf_token(browser_client)})

        assert response.status_code == case.write.success, response.content

    def test_with_a_bearer_token_need_no_csrf_token(self, browser_client, case):
        bearer = f"Bearer {token_issue(user=case.user)}"

        response = case.send(browser_client, Authorization=bearer)

        assert response.status_code == case.write.success, response.content
