import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders import views
from orders.factories import OrderFactory, ProductFactory, StaffFactory
from orders.models import Order
from orders.services import order_transition

pytestmark = pytest.mark.django_db

PLACED_AT = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def rows(html: str) -> list[int]:
    """The order ids of the rows of the page, in order."""
    return [int(order_id) for order_id in re.findall(r'<tr data-order-id="(\d+)"', html)]


def history_of(html: str) -> list[tuple[str, str]]:
    """(time, change) of each line of the order page's history, in order."""
    history = re.search(r'<ol id="history".*?</ol>', html, re.DOTALL)
    assert history, "no history list"
    return re.findall(r"<li [^>]*><time [^>]*>([^<]*)</time> ([^<]*)</li>", history[0])


def status_of(html: str, order: Order) -> str:
    match = re.search(
        rf'data-order-id="{order.pk}".*?<span class="status" data-field="status" '
        r'data-status="(\w+)">(\w+)</span>',
        html,
        re.DOTALL,
    )
    assert match, f"no status element for order {order.pk}"
    assert match[1] == match[2]
    return match[2]


class TestEveryOrderPage:
    @pytest.mark.parametrize("name", ["order-list", "order-board", "order-detail"])
    def test_sends_anonymous_visitors_to_log_in_first(self, client, name):
        url = reverse(name, args=[1] if name == "order-detail" else [])
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('login')}?next={url}"

    @pytest.mark.parametrize("name", ["order-list", "order-board", "order-detail"])
    def test_loads_the_live_script_deferred_next_to_a_polite_status_line(self, client, staff, name):
        order = OrderFactory.create(customer=staff)
        client.force_login(staff)
        html = client.get(reverse(name, args=[order.pk] if name == "order-detail" else [])).text
        assert '<script src="/static/orders/live.js" defer></script>' in html
        assert '<p id="live-status" class="live-status" role="status" aria-live="polite">' in html

    @pytest.mark.parametrize("name", ["order-list", "order-board", "order-detail"])
    def test_refuse_writes(self, client, staff, name):
        client.force_login(staff)
        order = OrderFactory.create(customer=staff)
        url = reverse(name, args=[order.pk] if name == "order-detail" else [])
        assert client.post(url).status_code == 405

    def test_are_linked_from_the_navigation_the_board_for_staff_only(self, client, customer):
        client.force_login(customer)
        html = client.get("/").text
        assert f'<a href="{reverse("order-list")}">My orders</a>' in html
        assert reverse("order-board") not in html

        client.force_login(StaffFactory.create())
        assert f'<a href="{reverse("order-board")}">Board</a>' in client.get("/").text


class TestMyOrdersPage:
    def test_lists_only_the_customers_own_orders_newest_first(
        self, client, customer, other_customer
    ):
        older = OrderFactory.create(customer=customer, created_at=PLACED_AT)
        newer = OrderFactory.create(customer=customer)
        OrderFactory.create(customer=other_customer)
        client.force_login(customer)

        response = client.get(reverse("order-list"))

        assert response.status_code == 200
        assert rows(response.text) == [newer.pk, older.pk]

    def test_shows_staff_their_own_orders_and_points_to_the_board(self, client, staff, customer):
        own = OrderFactory.create(customer=staff)
        OrderFactory.create(customer=customer)
        client.force_login(staff)

        html = client.get(reverse("order-list")).text

        assert rows(html) == [own.pk]
        assert f'href="{reverse("order-board")}"' in html

    def test_shows_money_as_a_decimal_string_and_times_in_utc(self, client, customer, settings):
        settings.TIME_ZONE = "Asia/Tokyo"
        product = ProductFactory.create(price=Decimal("6.25"))
        order = OrderFactory.create(customer=customer, lines=[(product, 2)], created_at=PLACED_AT)
        client.force_login(customer)

        html = client.get(reverse("order-list")).text

        assert '<td class="num" data-field="total">12.50</td>' in html
        assert '<time datetime="2026-03-04T05:06:07Z">2026-03-04 05:06 UTC</time>' in html
        assert status_of(html, order) == "pending"

    def test_says_so_when_there_are_none(self, client, customer):
        client.force_login(customer)
        html = client.get(reverse("order-list")).text
        assert "You have not placed any orders yet." in html
        assert rows(html) == []

    def test_lets_live_updates_add_the_customers_new_orders_on_the_first_page(
        self, client, customer
    ):
        client.force_login(customer)
        html = client.get(reverse("order-list")).text
        assert f'data-live-insert data-customer-id="{customer.pk}"' in html
        assert '<template id="order-row-template">' in html

    def test_pages_through_many_orders(self, client, customer, monkeypatch):
        monkeypatch.setattr(views, "ORDERS_PER_PAGE", 2)
        orders = [OrderFactory.create(customer=customer) for _ in range(3)]
        client.force_login(customer)

        first = client.get(reverse("order-list")).text
        second = client.get(reverse("order-list"), {"page": 2}).text

        assert rows(first) == [orders[2].pk, orders[1].pk]
        assert rows(second) == [orders[0].pk]
        assert "data-live-insert" not in second

    def test_reads_in_as_many_queries_for_thirty_orders_as_for_one(self, client, customer):
        client.force_login(customer)
        OrderFactory.create(customer=customer)
        with CaptureQueriesContext(connection) as one:
            assert len(rows(client.get(reverse("order-list")).text)) == 1

        OrderFactory.create_batch(29, customer=customer)
        with CaptureQueriesContext(connection) as thirty:
            assert len(rows(client.get(reverse("order-list")).text)) == 30

        assert len(thirty) == len(one)


class TestOrderPage:
    def test_shows_the_owner_the_lines_total_status_and_history(self, client, customer, staff):
        product = ProductFactory.create(name="Teapot", sku="TEA-1", price=Decimal("6.25"))
        order = OrderFactory.create(customer=customer, lines=[(product, 2)], created_at=PLACED_AT)
        order_transition(order=order, to_status=Order.Status.PAID, actor=staff)
        order_transition(order=order, to_status=Order.Status.SHIPPED, actor=None)
        client.force_login(customer)

        response = client.get(reverse("order-detail", args=[order.pk]))

        assert response.status_code == 200
        html = response.text
        assert f'<article data-order-id="{order.pk}"' in html
        assert status_of(html, order) == "shipped"
        assert re.search(
            r'<th scope="row">Teapot</th>\s*<td><code>TEA-1</code></td>\s*'
            r'<td class="num">2</td>\s*<td class="num">6.25</td>\s*<td class="num">12.50</td>',
            html,
        )
        assert '<dd data-field="total">12.50</dd>' in html
        assert [change for _, change in history_of(html)] == [
            f"placed (pending), by {customer.email}",
            f"pending → paid, by {staff.email}",
            "paid → shipped, by system",
        ]
        assert history_of(html)[0][0] == "2026-03-04 05:06:07 UTC"

    def test_marks_history_times_in_utc_for_the_socket_to_match(self, client, customer, settings):
        settings.TIME_ZONE = "America/New_York"
        order = OrderFactory.create(customer=customer, created_at=PLACED_AT)
        client.force_login(customer)

        html = client.get(reverse("order-detail", args=[order.pk])).text

        assert (
            '<li data-at="2026-03-04T05:06:07.000000Z">'
            '<time datetime="2026-03-04T05:06:07.000000Z">2026-03-04 05:06:07 UTC</time>'
        ) in html
        assert '<time datetime="2026-03-04T05:06:07Z">2026-03-04 05:06 UTC</time>' in html

    def test_is_not_found_for_someone_elses_order(self, client, customer, other_customer):
        order = OrderFactory.create(customer=other_customer)
        client.force_login(customer)
        assert client.get(reverse("order-detail", args=[order.pk])).status_code == 404

    def test_is_not_found_for_an_order_that_does_not_exist(self, client, customer):
        client.force_login(customer)
        assert client.get(reverse("order-detail", args=[404404])).status_code == 404

    def test_shows_staff_any_order_with_its_customer(self, client, staff, customer):
        order = OrderFactory.create(customer=customer)
        client.force_login(staff)

        response = client.get(reverse("order-detail", args=[order.pk]))

        assert response.status_code == 200
        assert f"<dd>{customer.email}</dd>" in response.text


class TestOrderBoard:
    def test_shows_staff_the_most_recent_orders_of_everyone(
        self, client, staff, customer, other_customer, monkeypatch
    ):
        monkeypatch.setattr(views, "BOARD_SIZE", 2)
        OrderFactory.create(customer=customer, created_at=PLACED_AT)
        mine = OrderFactory.create(customer=customer)
        theirs = OrderFactory.create(customer=other_customer)
        client.force_login(staff)

        response = client.get(reverse("order-board"))

        assert response.status_code == 200
        html = response.text
        assert rows(html) == [theirs.pk, mine.pk]
        assert f'<td class="email">{other_customer.email}</td>' in html
        assert status_of(html, theirs) == "pending"
        assert 'data-live-insert data-live-limit="2"' in html
        # The row template that live.js fills in has the customer column too.
        assert '<td class="email" data-fill="customer"></td>' in html

    def test_is_forbidden_to_customers(self, client, customer):
        client.force_login(customer)
        assert client.get(reverse("order-board")).status_code == 403

    def test_reads_in_as_many_queries_for_thirty_orders_as_for_one(self, client, staff):
        client.force_login(staff)
        OrderFactory.create()
        with CaptureQueriesContext(connection) as one:
            assert len(rows(client.get(reverse("order-board")).text)) == 1

        OrderFactory.create_batch(29)
        with CaptureQueriesContext(connection) as thirty:
            assert len(rows(client.get(reverse("order-board")).text)) == 30

        assert len(thirty) == len(one)
