"""The Content-Security-Policy in Chromium: every page works under it and breaks none of its rules.

A `securitypolicyviolation` listener, installed before any page script runs, records what the
browser blocked. The Swagger UIs must also have drawn their operations: a blocked script would
leave them blank without necessarily reporting more than one violation.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from orders.factories import DEFAULT_PASSWORD, OrderFactory
from orders.models import Order
from users.models import User

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@pytest.fixture
def admin(db: None) -> User:
    return User.objects.create_superuser(
        email="root@example.com", password=DEFAULT_PASSWORD, name="Root"
    )


@pytest.fixture
def order(admin: User) -> Order:
    return OrderFactory.create(customer=admin)


@pytest.fixture
def signed_in(admin: User, order: Order, page: Page) -> Page:
    page.context.add_init_script(RECORD_VIOLATIONS)
    page.goto("/login/?next=/")
    page.get_by_label("Email address").fill(admin.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/$"))
    return page


def violations(page: Page) -> list[str]:
    found: list[str] = page.evaluate("window.__cspViolations")
    return found


class TestThePolicyInABrowser:
    def test_blocks_nothing_on_our_pages_and_the_admin(self, signed_in, order):
        paths = [
            "/",
            "/compare/",
            "/orders/",
            f"/orders/{order.pk}/",
            "/orders/board/",
            "/products/",
            "/orders/new/",
            "/admin/",
            "/admin/orders/order/",
            f"/admin/orders/order/{order.pk}/change/",
            "/admin/users/user/add/",
        ]
        for path in paths:
            signed_in.goto(path)
            signed_in.wait_for_load_state("load")
            assert violations(signed_in) == [], path

    def test_lets_the_live_order_page_connect(self, signed_in, order):
        signed_in.goto(f"/orders/{order.pk}/")

        expect(signed_in.locator("#live-status")).to_have_text("Live")
        assert violations(signed_in) == []

    @pytest.mark.parametrize("path", ["/api/ninja/docs", "/api/drf/docs/"])
    def test_lets_both_swagger_uis_draw_their_operations(self, signed_in, path):
        signed_in.goto(path)

        expect(signed_in.locator(".opblock").first).to_be_visible()
        expect(
            signed_in.locator(".opblock-summary-path", has_text="/orders/").first
        ).to_be_visible()
        assert violations(signed_in) == []
