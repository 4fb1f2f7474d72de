"""API2, API4 and API6: bounded pages and bodies; password guessing and order placement throttled.

Each limit is read from the settings the way production reads it, and each refusal changes
nothing: a 413 or 429 writes no row.
"""

import json

import pytest
from django.conf import settings

from orders.factories import DEFAULT_PASSWORD, OrderFactory, ProductFactory
from orders.models import Order, Product
from tests.api.test_contract import snapshot
from users.models import Token

pytestmark = pytest.mark.django_db


class TestPageSize:
    def test_a_huge_page_size_is_clamped_to_the_maximum(self, full_api, customer):
        Product.objects.bulk_create(
            Product(sku=f"BULK-{n:04d}", name="Bulk", price=1, stock=1)
            for n in range(settings.API_MAX_PAGE_SIZE + 5)
        )

        body = full_api.get("products/", user=customer, page_size=10**9).json()

        assert body["count"] == settings.API_MAX_PAGE_SIZE + 5
        assert len(body["results"]) == settings.API_MAX_PAGE_SIZE
        assert body["next"] is not None

    def test_the_order_list_is_clamped_too(self, full_api, customer, settings):
        settings.API_MAX_PAGE_SIZE = 2
        OrderFactory.create_batch(3, customer=customer)

        body = full_api.get("orders/", user=customer, page_size=1000).json()

        assert (body["count"], len(body["results"])) == (3, 2)

    def test_an_enormous_page_size_is_clamped_too(self, full_api, customer):
        ProductFactory.create()

        response = full_api.get("products/", user=customer, page_size=str(2**63))

        assert response.status_code == 200
        assert len(response.json()["results"]) == 1

    @pytest.mark.parametrize("page_size", ["0", "-1", "1e9", "abc"])
    def test_a_page_size_that_is_no_positive_integer_is_refused_by_name(
        self, full_api, customer, page_size
    ):
        response = full_api.get("products/", user=customer, page_size=page_size)

        assert response.status_code == full_api.validation_status
        assert "page_size" in full_api.error_fields(response)


# Every write of the full styles: (method, path, who), `{order}` and `{product}` filled in.
WRITES = [
    ("post", "users/", None),
    ("post", "auth/token", None),
    ("post", "orders/", "staff"),
    ("post", "orders/{order}/transition", "staff"),
    ("post", "products/", "staff"),
    ("patch", "products/{product}", "staff"),
]


def oversize_body() -> str:
    """A JSON object one character longer than DATA_UPLOAD_MAX_MEMORY_SIZE allows."""
    return json.dumps({"padding": "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE})


class TestBodySize:
    @pytest.mark.parametrize("write", WRITES, ids=str)
    def test_a_body_over_the_limit_is_refused_with_413(self, full_api, staff, product, write):
        method, path, who = write
        order = OrderFactory.create(customer=staff, lines=[(product, 1)])
        url = full_api.prefix + path.format(order=order.pk, product=product.pk)
        headers = full_api._headers(staff if who else None, None)
        before = snapshot()

        response = full_api.client.generic(
            method.upper(), url, oversize_body(), content_type="application/json", headers=headers
        )

        assert response.status_code == 413, response.content[:200]
        assert response["Content-Type"].startswith("application/json")
        assert snapshot() == before

    def test_sign_up_is_refused_with_413_in_every_style(self, api):
        response = api.post("users/", raw=oversize_body())

        assert response.status_code == 413
        assert not Order.objects.exists()


class TestPasswordGuessing:
    @pytest.fixture
    def token_rate(self, settings):
        settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "token": "3/min"}

    def guess(self, full_api, customer, password="wrong", **extra):  # noqa: S107
        return full_api.client.post(
            full_api.prefix + "auth/token",
            json.dumps({"email": customer.email, "password": password}),
            content_type="application/json",
            **extra,
        )

    def test_stops_past_the_token_rate_even_with_the_right_password(
        self, full_api, customer, token_rate
    ):
        statuses = [self.guess(full_api, customer).status_code for _ in range(3)]
        last = self.guess(full_api, customer, password=DEFAULT_PASSWORD)

        assert statuses == [401, 401, 401]
        assert last.status_code == 429
        assert int(last["Retry-After"]) > 0
        assert not Token.objects.exists()

    def test_a_new_forwarded_for_address_does_not_reset_the_count(
        self, full_api, customer, token_rate
    ):
        statuses = [
            self.guess(full_api, customer, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code
            for n in range(4)
        ]

        assert statuses == [401, 401, 401, 429]

    def test_another_address_has_its_own_count(self, full_api, customer, token_rate):
        for _ in range(3):
            self.guess(full_api, customer)

        other = self.guess(full_api, customer, DEFAULT_PASSWORD, REMOTE_ADDR="198.51.100.7")

        assert other.status_code == 200


class TestOrderPlacementRate:
    @pytest.fixture
    def orders_rate(self, settings):
        settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "orders": "2/min"}

    def place(self, full_api, user, product):
        body = {"lines": [{"product_id": product.pk, "quantity": 1}]}
        return full_api.post("orders/", body, user=user)

    def test_stops_past_the_orders_rate(self, full_api, customer, product, orders_rate):
        responses = [self.place(full_api, customer, product) for _ in range(3)]

        assert [r.status_code for r in responses] == [201, 201, 429]
        assert int(responses[-1]["Retry-After"]) > 0
        assert "detail" in responses[-1].json()
        assert Order.objects.count() == 2
        product.refresh_from_db()
        assert product.stock == 8

    def test_counts_per_user(self, full_api, customer, other_customer, product, orders_rate):
        for _ in range(3):
            self.place(full_api, customer, product)

        assert self.place(full_api, other_customer, product).status_code == 201

    def test_leaves_the_users_other_requests_alone(self, full_api, customer, product, orders_rate):
        for _ in range(3):
            self.place(full_api, customer, product)
        order = Order.objects.filter(customer=customer).earliest("pk")

        reads = full_api.get("orders/", user=customer)
        paid = full_api.post(f"orders/{order.pk}/transition", {"status": "paid"}, user=customer)

        assert (reads.status_code, paid.status_code) == (200, 200)

    def test_is_set_in_the_settings(self):
        count, _, period = settings.API_THROTTLE_RATES["orders"].partition("/")
        assert int(count) > 0
        assert period.startswith(("s", "m", "h", "d"))


class TestSignUpRate:
    def test_a_new_forwarded_for_address_does_not_reset_the_count(self, api, settings):
        settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "signup": "2/min"}
        statuses = []
        for n in range(3):
            body = {"email": f"u{n}@example.com", "name": "U", "age": 30, "password": "x" * 12}
            headers = {"X-Forwarded-For": f"203.0.113.{n}"}
            statuses.append(api.post("users/", body, headers=headers).status_code)

        assert statuses == [201, 201, 429]


class TestBodyShape:
    @pytest.mark.parametrize("write", WRITES, ids=str)
    @pytest.mark.parametrize("raw", ["[]", '[{"stock": 1}]', "5", "null", '"x"'])
    def test_a_body_that_is_no_json_object_is_refused(self, full_api, staff, product, write, raw):
        method, path, who = write
        order = OrderFactory.create(customer=staff, lines=[(product, 1)])
        url = full_api.prefix + path.format(order=order.pk, product=product.pk)
        before = snapshot()

        response = full_api.client.generic(
            method.upper(),
            url,
            raw,
            content_type="application/json",
            headers=full_api._headers(staff if who else None, None),
        )

        assert response.status_code == 400, response.content
        assert snapshot() == before
