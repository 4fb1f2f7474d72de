"""The contract suite: every case runs against every API style that serves it.

A failure here means two styles disagree on data or rules (docs/api-contract.md).
"""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.factories import DEFAULT_PASSWORD, OrderFactory, ProductFactory
from orders.models import Order, OrderEvent, OrderLine, Product
from users.models import CLIENT_NAME_MAX_LENGTH, Token, User
from users.services import token_issue

from .conftest import ALL_STYLES, FULL_STYLES

pytestmark = pytest.mark.django_db

MONEY = re.compile(r"^\d+\.\d{2}$")
UTC_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def snapshot() -> tuple:
    """Every row an API write may touch."""
    return (
        list(User.objects.order_by("pk").values_list("pk", "email", "name", "age")),
        list(Product.objects.order_by("pk").values_list("pk", "sku", "price", "stock")),
        list(Order.objects.order_by("pk").values_list("pk", "status", "total")),
        OrderLine.objects.count(),
        OrderEvent.objects.count(),
    )


@pytest.fixture
def history(customer):
    """A customer with orders in several states, one with two lines."""
    pen = ProductFactory.create(price=Decimal("1.50"), stock=100)
    ink = ProductFactory.create(price=Decimal("12.00"), stock=100)
    now = datetime.now(UTC)
    OrderFactory.create(
        customer=customer, lines=[(pen, 2)], status="delivered", created_at=now - timedelta(days=3)
    )
    OrderFactory.create(
        customer=customer, lines=[(pen, 1), (ink, 3)], status="paid", created_at=now - timedelta(1)
    )
    OrderFactory.create(customer=customer, lines=[(ink, 1)])
    return customer


class TestUserOrders:
    def test_every_style_returns_the_same_payload(self, every_reader, history):
        payloads = {}
        for style, api in every_reader.items():
            response = api.get(f"users/{history.pk}/orders", user=history)
            assert response.status_code == 200, (style, response.content)
            assert response["Content-Type"].startswith("application/json")
            payloads[style] = response.json()

        first = payloads.pop("drf")
        for style, payload in payloads.items():
            assert payload == first, style

    def test_the_payload_matches_the_database(self, reader, history):
        body = reader.get(f"users/{history.pk}/orders", user=history).json()

        assert body["user"] == {
            "id": history.pk,
            "email": history.email,
            "name": history.name,
            "age": history.age,
        }
        orders = list(Order.objects.filter(customer=history).order_by("-created_at", "-id"))
        assert [o["id"] for o in body["orders"]] == [o.pk for o in orders]
        for data, order in zip(body["orders"], orders, strict=True):
            assert set(data) == {
                "id",
                "customer_id",
                "status",
                "total",
                "created_at",
                "updated_at",
                "lines",
            }
            assert (data["customer_id"], data["status"]) == (history.pk, order.status)
            assert MONEY.match(data["total"])
            assert Decimal(data["total"]) == order.total
            assert UTC_TIME.match(data["created_at"]), data["created_at"]
            assert parse_time(data["created_at"]) == order.created_at
            assert parse_time(data["updated_at"]) == order.updated_at
            lines = list(order.lines.order_by("pk").select_related("product"))
            assert data["lines"] == [
                {
                    "product_id": line.product_id,
                    "sku": line.product.sku,
                    "quantity": line.quantity,
                    "unit_price": f"{line.unit_price:.2f}",
                }
                for line in lines
            ]

    def test_staff_may_read_any_customers_orders(self, reader, history, staff):
        response = reader.get(f"users/{history.pk}/orders", user=staff)
        assert response.status_code == 200
        assert len(response.json()["orders"]) == 3

    def test_another_customers_orders_are_not_found(self, reader, history, other_customer):
        response = reader.get(f"users/{history.pk}/orders", user=other_customer)
        assert response.status_code == 404
        assert "orders" not in response.json()

    @pytest.mark.parametrize("user_id", ["999999", str(2**63), str(2**70)])
    def test_an_unknown_or_huge_id_is_not_found(self, reader, staff, user_id):
        assert reader.get(f"users/{user_id}/orders", user=staff).status_code == 404

    def test_anonymous_clients_are_refused(self, reader, history):
        response = reader.get(f"users/{history.pk}/orders")
        assert response.status_code == 401
        assert "detail" in response.json()

    def test_a_bad_token_is_refused(self, reader, history):
        response = reader.client.get(
            f"{reader.prefix}users/{history.pk}/orders", headers={"Authorization": "Bearer nope"}
        )
        assert response.status_code == 401

    def test_the_browser_session_works_too(self, reader, history):
        reader.client.force_login(history)
        assert reader.get(f"users/{history.pk}/orders").status_code == 200

    @pytest.mark.parametrize("count", [1, 50])
    def test_runs_the_same_queries_for_1_or_50_orders(self, reader, customer, count):
        product = ProductFactory.create(stock=1000)
        OrderFactory.create_batch(count, customer=customer, lines=[(product, 1)])
        # Issue the token first so that its INSERT is not counted.
        token_client_headers = reader._headers(customer, None)
        with CaptureQueriesContext(connection) as queries:
            response = reader.client.get(
                f"{reader.prefix}users/{customer.pk}/orders", headers=token_client_headers
            )
        assert response.status_code == 200
        assert len(response.json()["orders"]) == count
        # token + user + orders + lines (with products); a session adds nothing here.
        assert len(queries) <= 4, [q["sql"] for q in queries]


class TestSignUp:
    def body(self, **changes):
        return {
            "email": "new.customer@example.com",
            "name": "New Customer",
            "age": 30,
            "password": "a-long-enough-passphrase",
        } | changes

    def test_creates_the_user_and_never_returns_the_password(self, api):
        response = api.post("users/", self.body())

        assert response.status_code == 201, response.content
        user = User.objects.get(email="new.customer@example.com")
        assert response.json() == {
            "id": user.pk,
            "email": "new.customer@example.com",
            "name": "New Customer",
            "age": 30,
        }
        assert user.check_password("a-long-enough-passphrase")
        assert not user.is_staff
        assert "passphrase" not in response.content.decode()

    def test_every_style_creates_the_same_user(self, every_api):
        created = {}
        for style, api in every_api.items():
            email = f"{style}@example.com"
            response = api.post("users/", self.body(email=email))
            assert response.status_code == 201, (style, response.content)
            body = response.json()
            created[style] = {k: v for k, v in body.items() if k not in {"id", "email"}}
            assert body["email"] == email
        assert len({tuple(sorted(v.items())) for v in created.values()}) == 1

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"age": "twenty"}, "age"),
            ({"age": None}, "age"),
            ({"age": True}, "age"),
            ({"age": 1.5}, "age"),
            ({"age": "36"}, "age"),
            ({"age": " 36"}, "age"),
            ({"age": "36.0"}, "age"),
            ({"age": -1}, "age"),
            ({"age": 151}, "age"),
            ({"age": 2**63}, "age"),
            ({"email": "not-an-email"}, "email"),
            ({"email": 42}, "email"),
            ({"name": "x" * 10_000}, "name"),
            ({"name": "Null\x00Byte"}, "name"),
            ({"name": ""}, "name"),
            ({"password": "12345678"}, "password"),
            ({"password": None}, "password"),
        ],
        ids=lambda v: repr(v)[:30],
    )
    def test_bad_fields_are_refused_by_name_without_a_write(self, api, changes, field):
        before = snapshot()

        response = api.post("users/", self.body(**changes))

        assert response.status_code == api.validation_status, response.content
        assert field in api.error_fields(response)
        assert snapshot() == before

    def test_an_integer_may_have_a_zero_fraction_in_every_style(self, every_api):
        # JSON has one number type: 36.0 is 36 (an integer field takes no string, no fraction).
        for style, api in every_api.items():
            response = api.post("users/", self.body(email=f"{style}@example.com", age=36.0))
            assert (response.status_code, response.json()["age"]) == (201, 36), style

    @pytest.mark.parametrize("missing", ["email", "name", "age", "password"])
    def test_missing_fields_are_refused_by_name(self, api, missing):
        body = self.body()
        del body[missing]
        response = api.post("users/", body)
        assert response.status_code == api.validation_status
        assert missing in api.error_fields(response)
        assert not User.objects.exists()

    def test_a_taken_email_is_refused_in_any_case(self, api, customer):
        before = snapshot()
        response = api.post("users/", self.body(email=customer.email.upper()))
        assert response.status_code == api.validation_status
        assert "email" in api.error_fields(response)
        assert snapshot() == before

    def test_extra_fields_are_never_applied(self, api):
        requested_id = 1_000_000  # far past any id the test database's sequence hands out
        response = api.post(
            "users/", self.body(is_staff=True, is_superuser=True, id=requested_id, total="0.00")
        )
        assert response.status_code == 201
        user = User.objects.get()
        assert (user.is_staff, user.is_superuser) == (False, False)
        assert user.pk != requested_id
        assert response.json()["id"] == user.pk

    @pytest.mark.parametrize(
        ("raw", "content_type", "status"),
        [
            ('{"email": ', "application/json", 400),
            ("[1, 2]", "application/json", None),
            ("email=a@example.com", "application/x-www-form-urlencoded", 415),
            ('{"email": "a@example.com"}', "text/plain", 415),
        ],
        ids=["malformed-json", "not-an-object", "form-encoded", "text-plain"],
    )
    def test_bodies_that_are_not_a_json_object_are_refused(self, api, raw, content_type, status):
        response = api.post("users/", raw=raw, content_type=content_type)
        if status is None:
            assert 400 <= response.status_code < 500
        else:
            assert response.status_code == status, response.content
        assert response["Content-Type"].startswith("application/json")
        assert not User.objects.exists()

    def test_a_body_over_the_upload_limit_is_refused(self, api, settings):
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
        response = api.post("users/", self.body(name="x" * 2000))
        assert response.status_code == 413
        assert response["Content-Type"].startswith("application/json")
        assert not User.objects.exists()

    def test_is_throttled_past_the_signup_rate(self, api, settings):
        settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "signup": "2/min"}
        statuses = [
            api.post("users/", self.body(email=f"u{i}@example.com")).status_code for i in range(3)
        ]
        assert statuses == [201, 201, 429]
        assert User.objects.count() == 2


class TestOrders:
    @pytest.fixture
    def stock(self):
        return ProductFactory.create(price=Decimal("2.50"), stock=5)

    def test_a_quantity_may_have_a_zero_fraction(self, full_api, customer, stock):
        response = full_api.post(
            "orders/", {"lines": [{"product_id": stock.pk, "quantity": 2.0}]}, user=customer
        )
        assert response.status_code == 201, response.content
        assert response.json()["lines"][0]["quantity"] == 2

    def test_placing_an_order_returns_it_and_takes_stock(self, full_api, customer, stock):
        response = full_api.post(
            "orders/", {"lines": [{"product_id": stock.pk, "quantity": 2}]}, user=customer
        )

        assert response.status_code == 201, response.content
        body = response.json()
        order = Order.objects.get()
        assert body["id"] == order.pk
        assert (body["status"], body["total"], body["customer_id"]) == (
            "pending",
            "5.00",
            customer.pk,
        )
        assert body["lines"] == [
            {"product_id": stock.pk, "sku": stock.sku, "quantity": 2, "unit_price": "2.50"}
        ]
        stock.refresh_from_db()
        assert stock.stock == 3

    def test_styles_agree_on_a_placed_order(self, every_api, customer, stock):
        bodies = []
        for style in FULL_STYLES:
            response = every_api[style].post(
                "orders/", {"lines": [{"product_id": stock.pk, "quantity": 1}]}, user=customer
            )
            assert response.status_code == 201
            order_id = response.json()["id"]
            read = {
                s: every_api[s].get(f"orders/{order_id}", user=customer).json() for s in FULL_STYLES
            }
            assert read["drf"] == read["ninja"]
            bodies.append(
                {
                    k: v
                    for k, v in response.json().items()
                    if k not in {"id", "created_at", "updated_at"}
                }
            )
        assert bodies[0] == bodies[1]

    def test_not_enough_stock_is_a_409_that_changes_nothing(self, full_api, customer, stock):
        before = snapshot()
        response = full_api.post(
            "orders/", {"lines": [{"product_id": stock.pk, "quantity": 6}]}, user=customer
        )
        assert response.status_code == 409
        assert response.json()["code"] == "insufficient_stock"
        assert stock.sku in response.json()["detail"]
        assert snapshot() == before

    def test_an_unknown_product_is_refused_without_a_write(self, full_api, customer, stock):
        before = snapshot()
        response = full_api.post(
            "orders/", {"lines": [{"product_id": stock.pk + 100, "quantity": 1}]}, user=customer
        )
        assert response.status_code == 422
        assert response.json()["code"] == "product_unavailable"
        assert snapshot() == before

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"lines": []}, "lines"),
            ({}, "lines"),
            ({"lines": "many"}, "lines"),
            ({"lines": [{"product_id": "PID", "quantity": 1}]}, "product_id"),
            ({"lines": [{"product_id": None, "quantity": 1}]}, "product_id"),
            ({"lines": [{"product_id": 2**63, "quantity": 1}]}, "product_id"),
            ({"lines": [{"quantity": 1}]}, "product_id"),
            ({"lines": [{"product_id": 1, "quantity": 0}]}, "quantity"),
            ({"lines": [{"product_id": 1, "quantity": -1}]}, "quantity"),
            ({"lines": [{"product_id": 1, "quantity": 2**31}]}, "quantity"),
            ({"lines": [{"product_id": 1, "quantity": 2**63}]}, "quantity"),
            ({"lines": [{"product_id": 1, "quantity": 1.5}]}, "quantity"),
            ({"lines": [{"product_id": 1, "quantity": True}]}, "quantity"),
            ({"lines": [{"product_id": 1, "quantity": "twenty"}]}, "quantity"),
            ({"lines": [{"product_id": 1, "quantity": "2"}]}, "quantity"),
            ({"lines": [{"product_id": 1, "quantity": " 2"}]}, "quantity"),
            ({"lines": [{"product_id": 1, "quantity": None}]}, "quantity"),
        ],
        ids=lambda v: repr(v)[:40],
    )
    def test_malformed_lines_are_refused_by_name_without_a_write(
        self, full_api, customer, body, field
    ):
        ProductFactory.create(pk=1, stock=5)
        before = snapshot()

        response = full_api.post("orders/", body, user=customer)

        assert response.status_code == full_api.validation_status, response.content
        assert field in full_api.error_fields(response)
        assert snapshot() == before

    def test_total_status_and_customer_in_the_body_are_never_applied(
        self, full_api, customer, other_customer, stock
    ):
        response = full_api.post(
            "orders/",
            {
                "lines": [{"product_id": stock.pk, "quantity": 1}],
                "total": "0.01",
                "status": "delivered",
                "customer": other_customer.pk,
                "customer_id": other_customer.pk,
                "id": 4242,
            },
            user=customer,
        )
        assert response.status_code == 201
        order = Order.objects.get()
        assert (order.total, order.status, order.customer) == (Decimal("2.50"), "pending", customer)

    @pytest.mark.parametrize(
        ("raw", "content_type", "status"),
        [('{"lines": [', "application/json", 400), ('{"lines": []}', "text/plain", 415)],
        ids=["malformed-json", "text-plain"],
    )
    def test_bodies_that_are_not_json_are_refused(
        self, full_api, customer, raw, content_type, status
    ):
        response = full_api.post("orders/", raw=raw, content_type=content_type, user=customer)
        assert response.status_code == status
        assert not Order.objects.exists()

    def test_a_body_over_the_upload_limit_is_refused(self, full_api, customer, stock, settings):
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
        lines = [{"product_id": stock.pk, "quantity": 1}] * 100
        response = full_api.post("orders/", {"lines": lines}, user=customer)
        assert response.status_code == 413
        assert not Order.objects.exists()

    def test_the_same_idempotency_key_and_lines_replay_the_first_order(
        self, full_api, customer, stock
    ):
        body = {"lines": [{"product_id": stock.pk, "quantity": 1}]}
        key = {"Idempotency-Key": "order-7f3a"}
        first = full_api.post("orders/", body, user=customer, headers=key)
        again = full_api.post("orders/", body, user=customer, headers=key)

        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json() == first.json()
        assert Order.objects.count() == 1

    def test_the_same_key_with_other_lines_is_refused(self, full_api, customer, stock):
        key = {"Idempotency-Key": "order-7f3a"}
        full_api.post(
            "orders/",
            {"lines": [{"product_id": stock.pk, "quantity": 1}]},
            user=customer,
            headers=key,
        )
        before = snapshot()
        response = full_api.post(
            "orders/",
            {"lines": [{"product_id": stock.pk, "quantity": 2}]},
            user=customer,
            headers=key,
        )
        assert response.status_code == 422
        assert response.json()["code"] == "idempotency_key_reused"
        assert snapshot() == before

    def test_anonymous_clients_cannot_place_orders(self, full_api, stock):
        response = full_api.post("orders/", {"lines": [{"product_id": stock.pk, "quantity": 1}]})
        assert response.status_code == 401
        assert not Order.objects.exists()


class TestOrderReads:
    def test_a_customer_lists_only_their_own_orders(self, full_api, customer, other_customer):
        mine = OrderFactory.create(customer=customer)
        OrderFactory.create(customer=other_customer)

        body = full_api.get("orders/", user=customer).json()

        assert body["count"] == 1
        assert [o["id"] for o in body["results"]] == [mine.pk]
        assert set(body) == {"count", "next", "previous", "results"}

    def test_staff_list_every_order_and_filter_by_status(self, full_api, staff):
        OrderFactory.create(status="paid")
        OrderFactory.create()
        assert full_api.get("orders/", user=staff).json()["count"] == 2
        paid = full_api.get("orders/", user=staff, status="paid").json()
        assert [o["status"] for o in paid["results"]] == ["paid"]

    def test_the_page_size_is_capped(self, full_api, customer, settings):
        settings.API_MAX_PAGE_SIZE = 3
        product = ProductFactory.create(stock=100)
        OrderFactory.create_batch(5, customer=customer, lines=[(product, 1)])
        body = full_api.get("orders/", user=customer, page_size=1000).json()
        assert body["count"] == 5
        assert len(body["results"]) == 3
        assert body["next"] is not None

    @pytest.mark.parametrize("count", [1, 30])
    def test_the_order_list_runs_the_same_queries_however_many(self, full_api, customer, count):
        product = ProductFactory.create(stock=1000)
        OrderFactory.create_batch(count, customer=customer, lines=[(product, 1)])
        headers = full_api._headers(customer, None)
        with CaptureQueriesContext(connection) as queries:
            response = full_api.client.get(f"{full_api.prefix}orders/", headers=headers)
        assert response.json()["count"] == count
        # token + count + orders + lines (with products)
        assert len(queries) <= 5, [q["sql"] for q in queries]

    def test_another_customers_order_is_not_found(self, full_api, customer, other_customer):
        theirs = OrderFactory.create(customer=other_customer)
        assert full_api.get(f"orders/{theirs.pk}", user=customer).status_code == 404
        assert full_api.get(f"users/{other_customer.pk}", user=customer).status_code == 404

    def test_a_customer_reads_their_own_order_and_profile(self, full_api, customer):
        mine = OrderFactory.create(customer=customer)
        assert full_api.get(f"orders/{mine.pk}", user=customer).json()["id"] == mine.pk
        assert full_api.get(f"users/{customer.pk}", user=customer).json()["email"] == customer.email


class TestTransitions:
    def test_staff_move_an_order_along_the_machine(self, full_api, staff):
        order = OrderFactory.create(status="paid")
        response = full_api.post(f"orders/{order.pk}/transition", {"status": "shipped"}, user=staff)
        assert response.status_code == 200
        assert response.json()["status"] == "shipped"
        order.refresh_from_db()
        assert order.status == "shipped"
        assert order.events.latest("pk").actor == staff

    def test_a_forbidden_move_is_a_409_that_changes_nothing(self, full_api, staff):
        order = OrderFactory.create()
        before = snapshot()
        response = full_api.post(
            f"orders/{order.pk}/transition", {"status": "delivered"}, user=staff
        )
        assert response.status_code == 409
        assert response.json()["code"] == "invalid_transition"
        assert snapshot() == before

    def test_every_forbidden_move_is_a_409_that_changes_nothing(self, full_api, staff):
        # The machine written out here, not read from the model: a change to it fails this.
        allowed = {
            ("pending", "paid"),
            ("pending", "cancelled"),
            ("paid", "shipped"),
            ("paid", "cancelled"),
            ("shipped", "delivered"),
        }
        statuses = ["pending", "paid", "shipped", "delivered", "cancelled"]
        forbidden = [(a, b) for a in statuses for b in statuses if (a, b) not in allowed]
        orders = {status: OrderFactory.create(status=status) for status in statuses}
        before = snapshot()
        answers = {
            (from_status, to_status): full_api.post(
                f"orders/{orders[from_status].pk}/transition", {"status": to_status}, user=staff
            )
            for from_status, to_status in forbidden
        }
        assert {move: r.status_code for move, r in answers.items()} == dict.fromkeys(forbidden, 409)
        assert {r.json()["code"] for r in answers.values()} == {"invalid_transition"}
        assert snapshot() == before

    def test_a_customer_cancels_their_own_order_and_the_stock_returns(self, full_api, customer):
        product = ProductFactory.create(stock=4)
        order = OrderFactory.create(customer=customer, lines=[(product, 4)])
        response = full_api.post(
            f"orders/{order.pk}/transition", {"status": "cancelled"}, user=customer
        )
        assert response.status_code == 200
        product.refresh_from_db()
        assert product.stock == 4

    def test_a_customer_may_not_ship(self, full_api, customer):
        order = OrderFactory.create(customer=customer, status="paid")
        before = snapshot()
        response = full_api.post(
            f"orders/{order.pk}/transition", {"status": "shipped"}, user=customer
        )
        assert response.status_code == 403
        assert response.json()["code"] == "transition_not_permitted"
        assert snapshot() == before

    def test_another_customers_order_cannot_be_transitioned(
        self, full_api, customer, other_customer
    ):
        theirs = OrderFactory.create(customer=other_customer)
        before = snapshot()
        response = full_api.post(
            f"orders/{theirs.pk}/transition", {"status": "cancelled"}, user=customer
        )
        assert response.status_code == 404
        assert snapshot() == before

    @pytest.mark.parametrize("body", [{"status": "lost"}, {"status": None}, {"status": 1}, {}])
    def test_an_unknown_status_is_refused_by_name(self, full_api, staff, body):
        order = OrderFactory.create()
        before = snapshot()
        response = full_api.post(f"orders/{order.pk}/transition", body, user=staff)
        assert response.status_code == full_api.validation_status
        assert "status" in full_api.error_fields(response)
        assert snapshot() == before


class TestProducts:
    def test_customers_see_active_products_only(self, full_api, customer):
        active = ProductFactory.create()
        retired = ProductFactory.create(is_active=False)
        body = full_api.get("products/", user=customer).json()
        assert [p["id"] for p in body["results"]] == [active.pk]
        assert full_api.get(f"products/{retired.pk}", user=customer).status_code == 404
        assert full_api.get(f"products/{active.pk}", user=customer).json() == {
            "id": active.pk,
            "sku": active.sku,
            "name": active.name,
            "price": f"{active.price:.2f}",
            "stock": active.stock,
            "is_active": True,
        }

    def test_staff_create_and_change_products(self, full_api, staff):
        created = full_api.post(
            "products/",
            {"sku": "NEW-1", "name": "New", "price": "3.20", "stock": 7},
            user=staff,
        )
        assert created.status_code == 201, created.content
        product = Product.objects.get(sku="NEW-1")
        assert (product.price, product.stock, product.is_active) == (Decimal("3.20"), 7, True)

        changed = full_api.patch(f"products/{product.pk}", {"stock": 9}, user=staff)
        assert changed.status_code == 200
        product.refresh_from_db()
        assert product.stock == 9

    def test_customers_may_not_create_or_change_products(self, full_api, customer, product):
        before = snapshot()
        created = full_api.post(
            "products/", {"sku": "NEW-1", "name": "New", "price": "3.20", "stock": 7}, user=customer
        )
        changed = full_api.patch(f"products/{product.pk}", {"stock": 0}, user=customer)
        assert (created.status_code, changed.status_code) == (403, 403)
        assert snapshot() == before

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"price": "-1.00"}, "price"),
            ({"price": "abc"}, "price"),
            ({"price": "1.234"}, "price"),
            ({"stock": -1}, "stock"),
            ({"stock": 2**31}, "stock"),
            ({"sku": ""}, "sku"),
            ({"name": "x" * 10_000}, "name"),
            ({"name": "a\x00b"}, "name"),
        ],
        ids=lambda v: repr(v)[:30],
    )
    def test_bad_product_fields_are_refused_by_name(self, full_api, staff, changes, field):
        before = snapshot()
        body = {"sku": "NEW-1", "name": "New", "price": "3.20", "stock": 7} | changes
        response = full_api.post("products/", body, user=staff)
        assert response.status_code == full_api.validation_status, response.content
        assert field in full_api.error_fields(response)
        assert snapshot() == before

    def test_a_duplicate_sku_is_refused(self, full_api, staff, product):
        before = snapshot()
        response = full_api.post(
            "products/",
            {"sku": product.sku, "name": "Dup", "price": "1.00", "stock": 1},
            user=staff,
        )
        assert response.status_code == full_api.validation_status
        assert "sku" in full_api.error_fields(response)
        assert snapshot() == before


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


class TestTokens:
    def credentials(self, user: User, **changes: object) -> dict[str, object]:
        return {"email": user.email, "password": DEFAULT_PASSWORD} | changes

    def issue(self, api, user: User, **changes: object) -> str:
        response = api.post("auth/token", self.credentials(user, **changes))
        assert response.status_code == 200, (api.style, response.content)
        return response.json()["token"]

    def reads(self, api, user: User, key: str) -> int:
        """The status of `GET users/{id}/orders` in `api`'s style with this token."""
        return api.client.get(
            f"{api.prefix}users/{user.pk}/orders", headers=bearer(key)
        ).status_code

    def test_a_token_from_auth_token_works_in_every_style(self, every_reader, customer):
        # Issued by every style; read with in every style and tier, the fast path among them.
        for style in ALL_STYLES:
            token = self.issue(every_reader[style], customer)
            for api in every_reader.values():
                assert self.reads(api, customer, token) == 200, (style, api.style)

    def test_wrong_credentials_get_no_token(self, api, customer):
        response = api.post("auth/token", self.credentials(customer, password="wrong"))
        assert response.status_code == 401
        assert "token" not in response.json()
        assert not Token.objects.exists()

    def test_an_expired_token_authenticates_nobody(self, reader, customer, settings):
        settings.API_TOKEN_LIFETIME = 3600
        fresh, expired = token_issue(user=customer), token_issue(user=customer, client="old")
        now = timezone.now()
        Token.objects.filter(client="default").update(created_at=now - timedelta(seconds=3590))
        Token.objects.filter(client="old").update(created_at=now - timedelta(seconds=3600))

        assert self.reads(reader, customer, fresh) == 200
        response = reader.client.get(
            f"{reader.prefix}users/{customer.pk}/orders", headers=bearer(expired)
        )
        assert response.status_code == 401
        assert "detail" in response.json()

    def test_a_shorter_lifetime_applies_to_tokens_already_issued(self, reader, customer, settings):
        key = token_issue(user=customer)
        Token.objects.update(created_at=timezone.now() - timedelta(days=2))
        assert self.reads(reader, customer, key) == 200
        settings.API_TOKEN_LIFETIME = 24 * 3600
        assert self.reads(reader, customer, key) == 401

    def test_a_password_change_voids_the_tokens_issued_before_it(self, reader, customer):
        before = token_issue(user=customer)
        customer.set_password("another-long-passphrase")
        customer.save()

        assert self.reads(reader, customer, before) == 401
        assert self.reads(reader, customer, token_issue(user=customer, client="new")) == 200

    def test_delete_revokes_the_token_it_is_sent_with(self, api, customer):
        key = self.issue(api, customer)
        other = self.issue(api, customer, client="laptop")
        assert self.reads(api, customer, key) == 200

        response = api.delete("auth/token", headers=bearer(key))

        assert response.status_code == 204, response.content
        assert response.content == b""
        assert self.reads(api, customer, key) == 401
        assert api.delete("auth/token", headers=bearer(key)).status_code == 401
        # The user's other clients keep theirs.
        assert self.reads(api, customer, other) == 200
        assert list(Token.objects.values_list("client", flat=True)) == ["laptop"]

    def test_delete_needs_a_token_not_a_session(self, api, customer):
        key = token_issue(user=customer)
        assert api.delete("auth/token").status_code == 401
        assert api.delete("auth/token", headers=bearer("not-a-token")).status_code == 401
        api.client.force_login(customer)
        response = api.delete("auth/token")
        assert response.status_code == 401, response.content
        assert "detail" in response.json()
        assert self.reads(api, customer, key) == 200

    def test_issuing_again_for_a_client_replaces_its_token(self, api, customer):
        first = self.issue(api, customer, client="cli")
        second = self.issue(api, customer, client="cli")

        assert first != second
        assert self.reads(api, customer, first) == 401
        assert self.reads(api, customer, second) == 200
        assert Token.objects.filter(user=customer, client="cli").count() == 1

    def test_each_client_name_holds_a_token_of_its_own(self, api, customer):
        cli, laptop, default = (
            self.issue(api, customer, client="cli"),
            self.issue(api, customer, client="laptop"),
            self.issue(api, customer),
        )
        for key in (cli, laptop, default):
            assert self.reads(api, customer, key) == 200
        assert sorted(Token.objects.values_list("client", flat=True)) == [
            "cli",
            "default",
            "laptop",
        ]

    @pytest.mark.parametrize(
        "name",
        ["x" * (CLIENT_NAME_MAX_LENGTH + 1), "x" * 10_000, 42, None, True, "", ["cli"], "a\x00b"],
        ids=lambda v: repr(v)[:20],
    )
    def test_a_bad_client_name_is_refused_by_name_without_a_write(self, api, customer, name):
        key = token_issue(user=customer, client="cli")
        before = list(Token.objects.values_list("pk", "digest", "client", "created_at"))

        response = api.post("auth/token", self.credentials(customer, client=name))

        assert response.status_code == api.validation_status, response.content
        assert "client" in api.error_fields(response)
        assert list(Token.objects.values_list("pk", "digest", "client", "created_at")) == before
        assert self.reads(api, customer, key) == 200
