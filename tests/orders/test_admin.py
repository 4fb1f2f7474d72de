import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.factories import OrderFactory, ProductFactory, StaffFactory, UserFactory
from orders.models import Order, OrderEvent, ProductEvent
from tests.api.conftest import FULL_STYLES, Api

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:orders_order_changelist")


@pytest.fixture
def admin(db):
    return StaffFactory.create(is_superuser=True)


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


def act(client, action: str, orders: list[Order]):
    return client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [order.pk for order in orders]},
        follow=True,
    )


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


class TestOrderChangelist:
    def test_lists_orders_with_customer_and_line_count(self, admin_client):
        order = OrderFactory.create(
            lines=[(ProductFactory.create(), 1), (ProductFactory.create(), 2)]
        )
        response = admin_client.get(CHANGELIST)
        assert response.status_code == 200
        row = next(r for r in response.context["cl"].result_list if r.pk == order.pk)
        assert row.customer.email in response.text
        assert row._line_count == 2

    def test_runs_the_same_number_of_queries_for_2_or_40_orders(self, admin_client):
        def count_queries() -> int:
            with CaptureQueriesContext(connection) as queries:
                assert admin_client.get(CHANGELIST).status_code == 200
            return len(queries)

        OrderFactory.create_batch(2)
        few = count_queries()
        OrderFactory.create_batch(38)
        assert count_queries() == few

    def test_filters_by_status_and_searches_by_email_and_id(self, admin_client):
        # Emails without digits, so that searching for an order number matches no email.
        customer = UserFactory.create(email="ada@example.com")
        paid = OrderFactory.create(customer=customer, status=Order.Status.PAID)
        pending = OrderFactory.create(customer=UserFactory.create(email="bob@example.com"))

        by_status = admin_client.get(CHANGELIST, {"status__exact": "paid"})
        assert list(by_status.context["cl"].result_list) == [paid]
        by_email = admin_client.get(CHANGELIST, {"q": customer.email})
        assert list(by_email.context["cl"].result_list) == [paid]
        by_id = admin_client.get(CHANGELIST, {"q": str(pending.pk)})
        assert list(by_id.context["cl"].result_list) == [pending]

    def test_orders_cannot_be_added_or_deleted_in_the_admin(self, admin_client):
        order = OrderFactory.create()
        assert admin_client.get(reverse("admin:orders_order_add")).status_code == 403
        delete = reverse("admin:orders_order_delete", args=[order.pk])
        assert admin_client.post(delete, {"post": "yes"}).status_code == 403
        assert Order.objects.filter(pk=order.pk).exists()


class TestOrderChangePage:
    def test_shows_lines_and_history_with_status_and_total_read_only(self, admin_client):
        order = OrderFactory.create(status=Order.Status.PAID)
        url = reverse("admin:orders_order_change", args=[order.pk])

        response = admin_client.get(url)

        assert response.status_code == 200
        form_fields = response.context["adminform"].form.fields
        assert "status" not in form_fields
        assert "total" not in form_fields
        inline_models = {
            formset.formset.model for formset in response.context["inline_admin_formsets"]
        }
        assert inline_models == {order.lines.model, OrderEvent}

    def test_posting_a_new_status_or_total_changes_nothing(self, admin_client):
        order = OrderFactory.create()
        url = reverse("admin:orders_order_change", args=[order.pk])
        admin_client.post(url, {"status": "delivered", "total": "0.01"})
        order.refresh_from_db()
        assert order.status == Order.Status.PENDING
        assert order.total != 0


class TestOrderActions:
    def test_mark_paid_goes_through_the_machine_and_records_the_staff_member(
        self, admin_client, admin
    ):
        orders = OrderFactory.create_batch(2)

        response = act(admin_client, "mark_paid", orders)

        assert "2 order(s) marked paid." in messages_of(response)
        for order in orders:
            order.refresh_from_db()
            assert order.status == Order.Status.PAID
            event = order.events.latest("pk")
            assert (event.from_status, event.to_status, event.actor) == ("pending", "paid", admin)

    def test_a_forbidden_move_is_refused_with_a_message_and_changes_nothing(self, admin_client):
        pending = OrderFactory.create()
        paid = OrderFactory.create(status=Order.Status.PAID)

        response = act(admin_client, "mark_shipped", [pending, paid])

        pending.refresh_from_db()
        paid.refresh_from_db()
        assert pending.status == Order.Status.PENDING
        assert paid.status == Order.Status.SHIPPED
        msgs = messages_of(response)
        assert "1 order(s) marked shipped." in msgs
        assert any(f"#{pending.pk}" in m and "refused" in m for m in msgs)
        assert pending.events.count() == 1

    def test_cancel_returns_stock(self, admin_client):
        product = ProductFactory.create(stock=5)
        order = OrderFactory.create(lines=[(product, 5)])

        act(admin_client, "mark_cancelled", [order])

        product.refresh_from_db()
        assert product.stock == 5

    def test_the_full_path_to_delivered(self, admin_client):
        order = OrderFactory.create()
        for action in ("mark_paid", "mark_shipped", "mark_delivered"):
            act(admin_client, action, [order])
        order.refresh_from_db()
        assert order.status == Order.Status.DELIVERED
        assert list(order.events.order_by("pk").values_list("to_status", flat=True)) == [
            "pending",
            "paid",
            "shipped",
            "delivered",
        ]


class TestProductAdmin:
    @pytest.mark.parametrize(
        ("level", "expected"), [("out", {"OUT"}), ("low", {"LOW"}), ("ok", {"PLENTY"})]
    )
    def test_the_stock_level_filter(self, admin_client, level, expected):
        ProductFactory.create(sku="OUT", stock=0)
        ProductFactory.create(sku="LOW", stock=3)
        ProductFactory.create(sku="PLENTY", stock=40)

        response = admin_client.get(
            reverse("admin:orders_product_changelist"), {"stock_level": level}
        )

        assert {p.sku for p in response.context["cl"].result_list} == expected


class TestAdminAccess:
    def test_customers_are_sent_to_the_admin_login(self, client, customer):
        client.force_login(customer)
        response = client.get(CHANGELIST)
        assert response.status_code == 302
        assert reverse("admin:login") in response["Location"]


class TestProductChangesAreAudited:
    """Stock and price edits in the admin go through the product services, with history."""

    def change(self, client, product, **changes):
        data = {
            "sku": product.sku,
            "name": product.name,
            "price": str(product.price),
            "stock": product.stock,
            "is_active": "on" if product.is_active else "",
            # The history inline's management form: shown, never edited.
            "events-TOTAL_FORMS": "0",
            "events-INITIAL_FORMS": "0",
            "events-MIN_NUM_FORMS": "0",
            "events-MAX_NUM_FORMS": "0",
        } | changes
        return client.post(reverse("admin:orders_product_change", args=[product.pk]), data)

    def test_a_price_and_stock_edit_is_recorded_with_the_staff_member(self, admin_client, admin):
        product = ProductFactory.create(price="3.00", stock=4)
        before = product.updated_at

        response = self.change(admin_client, product, price="3.50", stock=9)

        assert response.status_code == 302, response.content[:500]
        product.refresh_from_db()
        assert (str(product.price), product.stock) == ("3.50", 9)
        assert product.updated_at > before
        event = ProductEvent.objects.get(product=product, kind="changed")
        assert event.actor == admin
        assert event.changes == {"price": ["3.00", "3.50"], "stock": [4, 9]}

    def test_a_bad_value_changes_nothing_and_records_nothing(self, admin_client):
        product = ProductFactory.create(price="3.00", stock=4)

        response = self.change(admin_client, product, stock=-1)

        assert response.status_code == 200  # the form again, with the error
        product.refresh_from_db()
        assert product.stock == 4
        assert not ProductEvent.objects.filter(product=product, kind="changed").exists()

    def test_a_product_added_in_the_admin_starts_its_history(self, admin_client, admin):
        data = {
            "sku": "ADM-1",
            "name": "Added",
            "price": "2.00",
            "stock": 3,
            "is_active": "on",
            "events-TOTAL_FORMS": "0",
            "events-INITIAL_FORMS": "0",
            "events-MIN_NUM_FORMS": "0",
            "events-MAX_NUM_FORMS": "0",
        }
        response = admin_client.post(reverse("admin:orders_product_add"), data)
        assert response.status_code == 302, response.content[:500]
        event = ProductEvent.objects.get(product__sku="ADM-1")
        assert (event.kind, event.actor) == ("created", admin)
        assert event.changes["price"] == [None, "2.00"]

    def test_the_change_page_shows_the_history(self, admin_client, admin):
        product = ProductFactory.create(price="3.00", stock=4)
        self.change(admin_client, product, stock=7)
        page = admin_client.get(reverse("admin:orders_product_change", args=[product.pk]))
        assert page.status_code == 200
        assert b"history" in page.content.lower()
        assert admin.email.encode() in page.content

    def test_the_api_styles_record_their_changes_too(self, client, staff):
        product = ProductFactory.create(price="3.00", stock=4)
        for stock, style in enumerate(FULL_STYLES, start=10):
            response = Api(style, client).patch(
                f"products/{product.pk}", {"stock": stock}, user=staff
            )
            assert response.status_code == 200, (style, response.content)
        events = ProductEvent.objects.filter(product=product, kind="changed").order_by("pk")
        assert [(e.changes["stock"], e.actor) for e in events] == [
            ([4, 10], staff),
            ([10, 11], staff),
        ]
