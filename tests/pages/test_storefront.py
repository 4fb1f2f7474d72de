"""The storefront on Django forms: the catalogue, the order form, the order page's buttons."""

import html
import re
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from orders.factories import OrderFactory, ProductFactory, StaffFactory, UserFactory
from orders.models import Order, OrderLine, Product
from users.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client: Client, customer: User) -> Client:
    client.force_login(customer)
    return client


def texts(html: bytes) -> str:
    return re.sub(r"\s+", " ", html.decode())


class TestTheCatalogue:
    def test_lists_active_products_with_their_stock_and_hides_the_rest(self, client):
        ProductFactory.create(name="Blue pen", stock=7)
        ProductFactory.create(name="Red pen", stock=0)
        ProductFactory.create(name="Old pen", is_active=False)

        page = texts(client.get("/products/").content)

        assert "Blue pen" in page
        assert re.search(r'class="num">7<', page)
        assert "sold out" in page
        assert "Old pen" not in page

    def test_searches_names_and_skus(self, client):
        ProductFactory.create(name="Blue pen", sku="PEN-BLUE")
        ProductFactory.create(name="Ink", sku="INK-1")

        by_name = texts(client.get("/products/", {"q": "blue"}).content)
        by_sku = texts(client.get("/products/", {"q": "ink-"}).content)

        assert "Blue pen" in by_name
        assert "Ink" not in by_name.split("<tbody>")[1]
        assert "INK-1" in by_sku
        assert "PEN-BLUE" not in by_sku

    def test_pages_through_the_products(self, client):
        ProductFactory.create_batch(21)

        first = client.get("/products/")
        second = client.get("/products/", {"page": 2})

        assert len(first.context["page"].object_list) == 20
        assert len(second.context["page"].object_list) == 1
        assert 'rel="next"' in first.content.decode()

    def test_a_search_the_database_cannot_take_is_a_400_with_the_reason(self, client):
        response = client.get("/products/", {"q": "pen\x00"})

        assert response.status_code == 400
        assert "Null characters are not allowed." in response.content.decode()


def lines_post(key: str, *lines: tuple[Any, Any]) -> dict[str, Any]:
    """The order form as a browser posts it: management form, key, three line rows."""
    data: dict[str, Any] = {
        "idempotency_key": key,
        "lines-TOTAL_FORMS": "3",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "100",
    }
    for index, (product, quantity) in enumerate(lines):
        data[f"lines-{index}-product"] = "" if product is None else str(product)
        data[f"lines-{index}-quantity"] = "" if quantity is None else str(quantity)
    return data


class TestTheOrderForm:
    def test_needs_a_login(self, client):
        assert client.get("/orders/new/").status_code == 302

    def test_is_drawn_with_a_fresh_key_and_the_chosen_product(self, signed_in):
        product = ProductFactory.create()

        first = signed_in.get("/orders/new/", {"product": product.pk})
        second = signed_in.get("/orders/new/")

        key = first.context["key_form"]["idempotency_key"].value()
        assert key
        assert key != second.context["key_form"]["idempotency_key"].value()
        assert first.context["lines"].forms[0]["product"].value() == str(product.pk)

    def test_places_the_order_and_shows_it(self, signed_in, customer):
        pen = ProductFactory.create(price=Decimal("2.50"), stock=10)
        ink = ProductFactory.create(price=Decimal("4.00"), stock=10)

        response = signed_in.post(
            "/orders/new/", lines_post("k-1", (pen.pk, 2), (ink.pk, 1), (None, None)), follow=True
        )

        order = Order.objects.get()
        assert response.redirect_chain == [(f"/orders/{order.pk}/", 302)]
        assert order.customer == customer
        assert order.total == Decimal("9.00")
        assert sorted(order.lines.values_list("product_id", "quantity")) == [
            (pen.pk, 2),
            (ink.pk, 1),
        ]
        assert f"Order #{order.pk} placed: 9.00 to pay." in response.content.decode()

    def test_a_double_submit_places_one_order(self, signed_in):
        pen = ProductFactory.create(stock=10)
        form = lines_post("same-render", (pen.pk, 3))

        first = signed_in.post("/orders/new/", form)
        second = signed_in.post("/orders/new/", form)

        assert Order.objects.count() == 1
        assert first["Location"] == second["Location"] == f"/orders/{Order.objects.get().pk}/"
        pen.refresh_from_db()
        assert pen.stock == 7

    def test_too_large_a_quantity_is_an_error_next_to_its_line_and_writes_nothing(self, signed_in):
        pen = ProductFactory.create(sku="PEN-1", stock=10)
        ink = ProductFactory.create(sku="INK-1", stock=2)

        response = signed_in.post("/orders/new/", lines_post("k", (pen.pk, 1), (ink.pk, 5)))

        assert response.status_code == 409
        lines = response.context["lines"]
        assert lines.forms[1].errors == {
            "quantity": ["Not enough stock for INK-1: requested 5, 2 left."]
        }
        assert not lines.forms[0].errors
        assert lines.forms[1]["quantity"].value() == "5"  # what was typed, redisplayed
        assert not Order.objects.exists()
        assert [p.stock for p in Product.objects.order_by("sku")] == [2, 10]

    @pytest.mark.parametrize(
        ("line", "field", "message"),
        [
            (("PRODUCT", None), "quantity", "How many?"),
            ((None, 3), "product", "Choose a product for this quantity."),
            (("PRODUCT", 0), "quantity", "Ensure this value is greater than or equal to 1."),
            (("PRODUCT", "two"), "quantity", "Enter a whole number."),
            (("99999", 1), "product", "Select a valid choice."),
        ],
    )
    def test_a_bad_line_is_an_error_on_its_field(self, signed_in, line, field, message):
        product = ProductFactory.create()
        product_value = product.pk if line[0] == "PRODUCT" else line[0]

        response = signed_in.post("/orders/new/", lines_post("k", (product_value, line[1])))

        assert response.status_code == 422
        assert message in " ".join(response.context["lines"].forms[0].errors[field])
        assert not Order.objects.exists()

    def test_an_inactive_product_is_not_a_choice(self, signed_in):
        old = ProductFactory.create(is_active=False)

        response = signed_in.post("/orders/new/", lines_post("k", (old.pk, 1)))

        assert response.status_code == 422
        assert "Select a valid choice" in response.context["lines"].forms[0].errors["product"][0]

    def test_no_lines_is_an_error(self, signed_in):
        response = signed_in.post("/orders/new/", lines_post("k", (None, None)))

        assert response.status_code == 422
        assert "Choose at least one product." in response.content.decode()

    def test_the_unpaid_units_cap_is_shown_above_the_lines(self, signed_in, settings):
        settings.ORDER_MAX_UNPAID_UNITS = 4
        pen = ProductFactory.create(stock=100)

        response = signed_in.post("/orders/new/", lines_post("k", (pen.pk, 5)))

        assert response.status_code == 409
        assert "at most 4 units in unpaid orders" in response.content.decode()
        assert not Order.objects.exists()


def moves_on_page(client: Client, order: Order) -> list[str]:
    return re.findall(r'data-move="(\w+)"', client.get(f"/orders/{order.pk}/").content.decode())


class TestTheOrderPagesButtons:
    def test_a_customer_may_pay_or_cancel_their_pending_order(self, signed_in, customer):
        order = OrderFactory.create(customer=customer)

        assert moves_on_page(signed_in, order) == ["paid", "cancelled"]
        response = signed_in.post(f"/orders/{order.pk}/move/", {"status": "paid"}, follow=True)

        order.refresh_from_db()
        assert order.status == Order.Status.PAID
        assert f"Order #{order.pk} is paid now." in response.content.decode()
        assert moves_on_page(signed_in, order) == ["cancelled"]

    def test_cancelling_returns_the_stock(self, signed_in, customer):
        pen = ProductFactory.create(stock=10)
        order = OrderFactory.create(customer=customer, lines=[(pen, 4)])

        signed_in.post(f"/orders/{order.pk}/move/", {"status": "cancelled"})

        pen.refresh_from_db()
        assert pen.stock == 10
        assert OrderLine.objects.filter(order=order).count() == 1

    def test_a_customer_may_not_ship_and_is_told_so(self, signed_in, customer):
        order = OrderFactory.create(customer=customer, status=Order.Status.PAID)

        response = signed_in.post(f"/orders/{order.pk}/move/", {"status": "shipped"}, follow=True)

        order.refresh_from_db()
        assert order.status == Order.Status.PAID
        assert "Only staff may mark an order" in response.content.decode()

    def test_staff_see_every_allowed_move(self, client):
        client.force_login(StaffFactory.create())
        order = OrderFactory.create(status=Order.Status.PAID)

        assert moves_on_page(client, order) == ["shipped", "cancelled"]
        client.post(f"/orders/{order.pk}/move/", {"status": "shipped"})
        order.refresh_from_db()
        assert order.status == Order.Status.SHIPPED
        assert moves_on_page(client, order) == ["delivered"]

    def test_a_forbidden_move_changes_nothing(self, signed_in, customer):
        order = OrderFactory.create(customer=customer, status=Order.Status.CANCELLED)

        response = signed_in.post(f"/orders/{order.pk}/move/", {"status": "paid"}, follow=True)

        order.refresh_from_db()
        assert order.status == Order.Status.CANCELLED
        assert "cannot move from 'cancelled' to 'paid'" in html.unescape(response.content.decode())
        assert moves_on_page(signed_in, order) == []

    def test_someone_elses_order_is_a_404(self, signed_in):
        order = OrderFactory.create(customer=UserFactory.create())

        assert signed_in.post(f"/orders/{order.pk}/move/", {"status": "cancelled"}).status_code == (
            404
        )
        order.refresh_from_db()
        assert order.status == Order.Status.PENDING

    def test_a_move_is_a_post_with_csrf(self, customer):
        order = OrderFactory.create(customer=customer)
        strict = Client(enforce_csrf_checks=True)
        strict.force_login(customer)

        assert strict.get(f"/orders/{order.pk}/move/").status_code == 405
        assert strict.post(f"/orders/{order.pk}/move/", {"status": "paid"}).status_code == 403
        order.refresh_from_db()
        assert order.status == Order.Status.PENDING
