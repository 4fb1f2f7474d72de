"""The order pages in a real browser: changes made elsewhere show up without a reload."""

import json
import re
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.sync_api import Page, Response, WebSocketRoute, expect

from orders.factories import DEFAULT_PASSWORD, OrderFactory
from orders.models import Order
from users.models import User
from users.services import token_issue

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Set on the page before a change and read after it: a reload would have dropped it.
MARK = "window.__orderdeskMarker = 1"
READ_MARK = "window.__orderdeskMarker"


def log_in(page: Page, email: str, next_path: str) -> None:
    """Through the real login form, landing on `next_path`."""
    page.goto(f"/login/?next={next_path}")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(re.escape(next_path) + "$"))


@dataclass(frozen=True)
class Api:
    """The live server's ninja API, as one user (`email`) with a bearer token."""

    base_url: str
    email: str
    token: str
    headers: dict[str, str] = field(default_factory=dict)

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(  # noqa: S310 (a loopback URL built by the test)
            f"{self.base_url}/api/ninja/{path}",
            data=json.dumps(body).encode(),
            headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
                **self.headers,
            },
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            result: dict[str, Any] = json.load(response)
            return result


@pytest.fixture
def order(customer: User) -> Order:
    return OrderFactory.create(customer=customer)


@pytest.fixture
def staff_api(staff: User, live_asgi_server: str) -> Api:
    return Api(live_asgi_server, staff.email, token_issue(user=staff))


@pytest.fixture
def customer_api(customer: User, live_asgi_server: str) -> Api:
    return Api(live_asgi_server, customer.email, token_issue(user=customer))


class TestTheOrderPage:
    def test_shows_a_status_change_made_elsewhere_without_a_reload(
        self, customer, order, staff_api, page
    ):
        log_in(page, customer.email, f"/orders/{order.pk}/")
        expect(page.locator("#live-status")).to_have_text("Live")
        status = page.locator(f'article[data-order-id="{order.pk}"] [data-field="status"]')
        history = page.locator("#history li")
        expect(status).to_have_text("pending")
        expect(history).to_have_count(1)
        page.evaluate(MARK)

        staff_api.post(f"orders/{order.pk}/transition", {"status": "paid"})

        expect(status).to_have_text("paid")
        expect(history).to_have_count(2)
        expect(history.last).to_have_text(
            re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC pending → paid, by ")
        )
        expect(history.last).to_contain_text(f"by {staff_api.email}")
        assert page.evaluate(READ_MARK) == 1

    def test_reconnects_by_itself_and_catches_up_on_what_it_missed(
        self, customer, order, staff_api, page
    ):
        # Every socket of the page goes through the test, which can then cut it.
        sockets: list[WebSocketRoute] = []

        def through_the_test(socket: WebSocketRoute) -> None:
            socket.connect_to_server()
            sockets.append(socket)

        page.route_web_socket(re.compile(r"/ws/orders/$"), through_the_test)
        log_in(page, customer.email, f"/orders/{order.pk}/")
        live = page.locator("#live-status")
        expect(live).to_have_text("Live")
        page.evaluate(MARK)

        sockets[0].close()
        expect(live).to_have_text("Connection lost: reconnecting…")
        # The page is offline now (its next attempt waits for the test's route handler, which
        # only runs once the test calls Playwright again): this event never reaches it.
        staff_api.post(f"orders/{order.pk}/transition", {"status": "paid"})

        expect(live).to_contain_text("reconnected")
        expect(live).to_contain_text("up to date")
        expect(page.locator('article [data-field="status"]')).to_have_text("paid")
        expect(page.locator("#history li")).to_have_count(2)
        assert len(sockets) == 2
        assert page.evaluate(READ_MARK) == 1


class TestTheBoard:
    def test_shows_a_new_order_at_the_top_without_a_reload(
        self, staff, order, product, customer_api, page
    ):
        log_in(page, staff.email, "/orders/board/")
        expect(page.locator("#live-status")).to_have_text("Live")
        rows = page.locator("#board-orders tr")
        expect(rows).to_have_count(1)
        page.evaluate(MARK)

        placed = customer_api.post(
            "orders/", {"lines": [{"product_id": product.pk, "quantity": 2}]}
        )

        expect(rows).to_have_count(2)
        expect(rows.first).to_have_attribute("data-order-id", str(placed["id"]))
        expect(rows.first.locator('[data-field="status"]')).to_have_text("pending")
        expect(rows.first.locator('[data-field="total"]')).to_have_text(placed["total"])
        expect(rows.first.get_by_role("link")).to_have_attribute("href", f"/orders/{placed['id']}/")
        expect(rows.nth(1)).to_have_attribute("data-order-id", str(order.pk))
        assert page.evaluate(READ_MARK) == 1


class TestTheOrderPageInProduction:
    """The README's production command (tests/servers.py, `production_site`): debug off, the
    static files collected and served by the application itself, under their hashed names."""

    def test_loads_its_script_and_styles_and_shows_a_change_without_a_reload(
        self, production_site, production_page
    ):
        page, seed = production_page, production_site.seed
        static: dict[str, int] = {}

        def record(response: Response) -> None:
            if "/static/" in response.url:
                static[response.url] = response.status

        page.on("response", record)
        log_in(page, seed["email"], f"/orders/{seed['order']}/")
        expect(page.locator("#live-status")).to_have_text("Live")
        expect(page.locator("script[src*='/static/orders/']")).to_have_attribute(
            "src", re.compile(r"^/static/orders/live\.[0-9a-f]{12}\.js$")
        )
        assert static, "the page loaded no static file"
        assert set(static.values()) == {200}, static
        assert any(re.search(r"/static/orders/orders\.[0-9a-f]{12}\.css$", url) for url in static)
        status = page.locator(f'article[data-order-id="{seed["order"]}"] [data-field="status"]')
        expect(status).to_have_text("pending")
        page.evaluate(MARK)

        api = Api(production_site.url, seed["email"], seed["token"], {"X-Forwarded-Proto": "https"})
        api.post(f"orders/{seed['order']}/transition", {"status": "paid"})

        expect(status).to_have_text("paid")
        expect(page.locator("#history li")).to_have_count(2)
        assert page.evaluate(READ_MARK) == 1
