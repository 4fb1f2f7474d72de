"""The storefront in a real browser: order from the form, pay and cancel, staff ship live.

Data is made in fixtures before the browser starts (tests/e2e/conftest.py); afterwards the
test reads what the server did from the pages themselves.
"""

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from orders.factories import OrderFactory, ProductFactory
from orders.models import Order, Product
from users.models import User

from .test_live_order_page import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def pen(db: None) -> Product:
    return ProductFactory.create(name="Fountain pen", sku="PEN-F", stock=5)


def order_rows(page: Page) -> int:
    page.goto("/orders/")
    return page.locator("#orders tr[data-order-id]").count()


class TestOrderingFromTheForm:
    def test_a_customer_orders_from_the_catalogue_and_a_double_submit_places_one(
        self, customer: User, pen: Product, page: Page
    ) -> None:
        log_in(page, customer.email, "/products/")
        page.get_by_role("row", name=re.compile("Fountain pen")).get_by_role(
            "link", name="Order"
        ).click()
        expect(page.get_by_label("Product of line 1")).to_have_value(str(pen.pk))
        page.get_by_label("Quantity of line 1").fill("2")
        form = page.locator("form", has=page.get_by_role("button", name="Place order"))
        posted = form.evaluate("f => Object.fromEntries(new FormData(f))")

        page.get_by_role("button", name="Place order").click()

        expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Order #\d+$"))
        first = page.url
        expect(page.locator("#order-facts [data-field='status']")).to_have_text("pending")
        expect(page.locator(".messages")).to_contain_text("placed")
        # The same form sent again, as a second click or a retried request would send it.
        again = page.request.post("/orders/new/", form=posted)
        assert again.url == first
        assert order_rows(page) == 1

    def test_too_large_a_quantity_is_shown_next_to_the_line_with_what_was_typed(
        self, customer: User, pen: Product, page: Page
    ) -> None:
        log_in(page, customer.email, "/orders/new/")
        page.get_by_label("Product of line 1").select_option(str(pen.pk))
        page.get_by_label("Quantity of line 1").fill("9")

        page.get_by_role("button", name="Place order").click()

        line = page.locator('tr[data-line="0"]')
        expect(line.locator(".errorlist")).to_have_text(
            "Not enough stock for PEN-F: requested 9, 5 left."
        )
        expect(page.get_by_label("Quantity of line 1")).to_have_value("9")
        assert order_rows(page) == 0


@pytest.fixture
def desk(browser: Browser, live_asgi_server: str) -> Iterator[Page]:
    """A second browser, the staff's, on the same live server."""
    context = browser.new_context(base_url=live_asgi_server)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def pending(customer: User, pen: Product) -> Order:
    return OrderFactory.create(customer=customer, lines=[(pen, 1)])


@pytest.fixture
def paid(customer: User, pen: Product) -> Order:
    return OrderFactory.create(customer=customer, lines=[(pen, 1)], status=Order.Status.PAID)


class TestTheOrderPagesButtons:
    def test_the_customer_pays_then_cancels(
        self, customer: User, pending: Order, page: Page
    ) -> None:
        log_in(page, customer.email, f"/orders/{pending.pk}/")
        status = page.locator("#order-facts [data-field='status']")

        page.get_by_role("button", name="Pay").click()
        expect(page.locator(".messages")).to_have_text(f"Order #{pending.pk} is paid now.")
        expect(status).to_have_text("paid")
        expect(page.get_by_role("button", name="Pay")).to_have_count(0)

        page.get_by_role("button", name="Cancel order").click()
        expect(status).to_have_text("cancelled")
        expect(page.locator("#order-moves button")).to_have_count(0)

    def test_staff_ship_from_the_page_while_the_customers_page_updates_live(
        self, customer: User, staff: User, paid: Order, desk: Page, page: Page
    ) -> None:
        log_in(page, customer.email, f"/orders/{paid.pk}/")
        expect(page.locator("#live-status")).to_have_text("Live")
        expect(page.get_by_role("button", name="Cancel order")).to_be_visible()
        page.evaluate("window.__orderdeskMarker = 1")

        log_in(desk, staff.email, f"/orders/{paid.pk}/")
        desk.get_by_role("button", name="Mark shipped").click()
        expect(desk.locator(".messages")).to_contain_text("is shipped now")

        expect(page.locator("#order-facts [data-field='status']")).to_have_text("shipped")
        expect(page.locator("#history li").last).to_contain_text("paid → shipped")
        # The customer may no longer cancel: the buttons were redrawn, without a reload.
        expect(page.locator("#order-moves button")).to_have_count(0)
        assert page.evaluate("window.__orderdeskMarker") == 1
