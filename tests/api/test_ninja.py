"""Behaviour of the django-ninja style (/api/ninja/) beyond the shared contract suite.

Its 422 shape, strict types, auth (bearer, session with CSRF), parsing errors, pagination,
filters, throttling and the OpenAPI document.
"""

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from pytest_django.fixtures import DjangoAssertNumQueries

from orders.factories import ProductFactory, UserFactory
from orders.models import Order, Product
from users.models import User
from users.services import token_issue

API = "/api/ninja/"
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$")
# An unmasked CSRF secret: the cookie and the header carry the same 32 letters.
CSRF_SECRET = "a" * 32

pytestmark = pytest.mark.django_db


def bearer(user: User) -> Client:
    return Client(headers={"Authorization": f"Bearer {token_issue(user=user)}"})


def post(client: Client, path: str, body: Any, **extra: Any) -> Any:
    return client.post(API + path, json.dumps(body), content_type="application/json", **extra)


def signup_body(**overrides: Any) -> dict[str, Any]:
    return {
        "email": "new@example.com",
        "name": "New Person",
        "age": 30,
        "password": "a-long-unusual-passphrase",
        **overrides,
    }


class TestSignUp:
    def test_creates_the_user_and_never_returns_the_password(self) -> None:
        response = post(Client(), "users/", signup_body(email="New@Example.com"))

        assert response.status_code == 201
        body = response.json()
        assert body == {
            "id": body["id"],
            "email": "new@example.com",
            "name": "New Person",
            "age": 30,
        }

    def test_refuses_age_twenty_in_fastapis_shape_and_writes_nothing(self) -> None:
        response = post(Client(), "users/", signup_body(age="twenty"))

        assert response.status_code == 422
        assert response["Content-Type"].startswith("application/json")
        assert response.json() == {
            "detail": [
                {
                    "type": "int_type",
                    "loc": ["body", "age"],
                    "msg": "Input should be a valid integer",
                }
            ]
        }
        assert not User.objects.exists()

    @pytest.mark.parametrize("age", [True, 1.5, None, "30", -1, 151])
    def test_refuses_anything_but_an_integer_from_0_to_150(self, age: Any) -> None:
        response = post(Client(), "users/", signup_body(age=age))

        assert response.status_code == 422
        assert [issue["loc"] for issue in response.json()["detail"]] == [["body", "age"]]

    def test_accepts_an_integral_float_as_json_schemas_integer_does(self) -> None:
        response = post(Client(), "users/", signup_body(age=30.0))

        assert response.status_code == 201
        assert response.json()["age"] == 30

    def test_refuses_a_nul_character(self) -> None:
        response = post(Client(), "users/", signup_body(name="Bad\x00Name"))

        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "name"]

    def test_reports_a_missing_field_by_name(self) -> None:
        body = signup_body()
        del body["password"]

        response = post(Client(), "users/", body)

        assert response.status_code == 422
        assert response.json()["detail"] == [
            {"type": "missing", "loc": ["body", "password"], "msg": "Field required"}
        ]

    def test_reports_the_services_errors_in_the_same_shape(self, customer: User) -> None:
        response = post(Client(), "users/", signup_body(email=customer.email, password="12345678"))

        assert response.status_code == 422
        locs = {tuple(issue["loc"]) for issue in response.json()["detail"]}
        assert locs == {("body", "email"), ("body", "password")}

    def test_answers_415_to_a_body_that_is_not_json(self) -> None:
        response = Client().post(API + "users/", signup_body())  # form-encoded

        assert response.status_code == 415
        assert "detail" in response.json()
        assert not User.objects.exists()

    def test_answers_400_to_malformed_json(self) -> None:
        response = Client().post(API + "users/", "{nope", content_type="application/json")

        assert response.status_code == 400
        assert "detail" in response.json()

    def test_answers_413_to_a_body_over_the_upload_limit(self, settings: Any) -> None:
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

        response = post(Client(), "users/", signup_body(name="x" * 2000))

        assert response.status_code == 413
        assert "detail" in response.json()

    def test_is_throttled_by_the_signup_rate(self, settings: Any) -> None:
        settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "signup": "2/min"}
        client = Client()
        for n in range(2):
            assert post(client, "users/", signup_body(email=f"u{n}@example.com")).status_code == 201

        response = post(client, "users/", signup_body(email="u3@example.com"))

        assert response.status_code == 429
        assert int(response["Retry-After"]) > 0
        assert "detail" in response.json()


class TestToken:
    def test_is_issued_for_good_credentials_and_authenticates(self, customer: User) -> None:
        response = post(
            Client(),
            "auth/token",
            {"email": customer.email.upper(), "password": "correct-horse-battery-staple"},
        )

        assert response.status_code == 200
        client = Client(headers={"Authorization": f"Bearer {response.json()['token']}"})
        assert client.get(f"{API}users/{customer.pk}").json()["email"] == customer.email

    def test_is_refused_with_401_for_a_wrong_password(self, customer: User) -> None:
        response = post(Client(), "auth/token", {"email": customer.email, "password": "wrong"})

        assert response.status_code == 401
        assert "detail" in response.json()

    def test_is_throttled_by_the_token_rate(self, customer: User, settings: Any) -> None:
        settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "token": "1/min"}
        body = {"email": customer.email, "password": "wrong"}
        post(Client(), "auth/token", body)

        response = post(Client(), "auth/token", body)

        assert response.status_code == 429
        assert "Retry-After" in response


class TestAuthentication:
    def test_answers_401_with_a_bearer_challenge_to_anonymous_requests(self) -> None:
        response = Client().get(API + "orders/")

        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert "detail" in response.json()

    def test_answers_401_to_an_anonymous_write_rather_than_a_csrf_refusal(self) -> None:
        response = post(Client(enforce_csrf_checks=True), "orders/", {"lines": []})

        assert response.status_code == 401

    def test_answers_401_to_an_unknown_token(self) -> None:
        client = Client(headers={"Authorization": "Bearer not-a-token"})

        assert client.get(API + "orders/").status_code == 401

    def test_accepts_the_session_for_reads(self, customer: User) -> None:
        client = Client(enforce_csrf_checks=True)
        client.force_login(customer)

        assert client.get(f"{API}users/{customer.pk}").status_code == 200

    def test_refuses_a_session_write_without_the_csrf_token(
        self, customer: User, product: Product
    ) -> None:
        client = Client(enforce_csrf_checks=True)
        client.force_login(customer)

        response = post(client, "orders/", {"lines": [{"product_id": product.pk, "quantity": 1}]})

        assert response.status_code == 403
        assert "CSRF" in response.json()["detail"]
        assert not Order.objects.exists()

    def test_accepts_a_session_write_with_the_csrf_token(
        self, customer: User, product: Product
    ) -> None:
        client = Client(enforce_csrf_checks=True)
        client.force_login(customer)
        client.cookies["csrftoken"] = CSRF_SECRET

        response = post(
            client,
            "orders/",
            {"lines": [{"product_id": product.pk, "quantity": 1}]},
            headers={"X-CSRFToken": CSRF_SECRET},
        )

        assert response.status_code == 201

    def test_needs_no_csrf_token_with_a_bearer_token(
        self, customer: User, product: Product
    ) -> None:
        client = Client(
            enforce_csrf_checks=True,
            headers={"Authorization": f"Bearer {token_issue(user=customer)}"},
        )

        response = post(client, "orders/", {"lines": [{"product_id": product.pk, "quantity": 1}]})

        assert response.status_code == 201


class TestDocs:
    def test_serves_the_interactive_docs(self) -> None:
        response = Client().get(API + "docs")

        assert response.status_code == 200
        assert b"openapi.json" in response.content

    def test_serves_an_openapi_schema_with_the_bearer_scheme_and_every_path(self) -> None:
        schema = Client().get(API + "openapi.json").json()

        assert schema["components"]["securitySchemes"]["BearerAuth"] == {
            "type": "http",
            "scheme": "bearer",
        }
        assert {
            "/api/ninja/users/",
            "/api/ninja/users/{user_id}",
            "/api/ninja/users/{user_id}/orders",
            "/api/ninja/auth/token",
            "/api/ninja/products/",
            "/api/ninja/products/{product_id}",
            "/api/ninja/orders/",
            "/api/ninja/orders/{order_id}",
            "/api/ninja/orders/{order_id}/transition",
        } <= set(schema["paths"])
        assert set(schema["paths"]["/api/ninja/orders/"]["post"]["responses"]) >= {
            "201",
            "401",
            "409",
            "415",
            "422",
            "429",
        }


class TestProducts:
    def test_are_paged_with_links_and_a_capped_page_size(self, customer: User) -> None:
        ProductFactory.create_batch(102)
        client = bearer(customer)

        page = client.get(API + "products/", {"page_size": 1000}).json()
        second = client.get(page["next"]).json()

        assert page["count"] == 102
        assert len(page["results"]) == 100
        assert page["previous"] is None
        assert page["next"].startswith("http://testserver/api/ninja/products/?")
        assert len(second["results"]) == 2
        assert second["next"] is None
        assert second["previous"] is not None

    def test_default_to_the_configured_page_size(self, customer: User) -> None:
        ProductFactory.create_batch(21)

        assert len(bearer(customer).get(API + "products/").json()["results"]) == 20

    def test_answer_404_past_the_last_page(self, customer: User, product: Product) -> None:
        response = bearer(customer).get(API + "products/", {"page": 2})

        assert response.status_code == 404
        assert "detail" in response.json()

    def test_hide_inactive_products_from_customers_only(self, customer: User, staff: User) -> None:
        hidden = ProductFactory.create(is_active=False)

        assert bearer(customer).get(f"{API}products/{hidden.pk}").status_code == 404
        assert bearer(staff).get(f"{API}products/{hidden.pk}").status_code == 200

    def test_are_created_by_staff_with_money_as_a_decimal_string(self, staff: User) -> None:
        body = {"sku": "NEW-1", "name": "Widget", "price": "12.5", "stock": 3}

        response = post(bearer(staff), "products/", body)

        assert response.status_code == 201
        assert response.json()["price"] == "12.50"
        assert response.json()["is_active"] is True

    def test_are_not_created_by_customers(self, customer: User) -> None:
        body = {"sku": "NEW-1", "name": "Widget", "price": "1.00", "stock": 3}

        response = post(bearer(customer), "products/", body)

        assert response.status_code == 403
        assert not Product.objects.filter(sku="NEW-1").exists()

    def test_refuse_a_taken_sku_by_field(self, staff: User, product: Product) -> None:
        body = {"sku": product.sku, "name": "Widget", "price": "1.00", "stock": 3}

        response = post(bearer(staff), "products/", body)

        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "sku"]

    def test_are_patched_field_by_field_and_refuse_null(
        self, staff: User, product: Product
    ) -> None:
        client = bearer(staff)
        url = f"{API}products/{product.pk}"

        changed = client.patch(url, {"stock": 7}, content_type="application/json")
        refused = client.patch(url, {"name": None}, content_type="application/json")

        assert changed.status_code == 200
        assert changed.json()["stock"] == 7
        assert changed.json()["sku"] == product.sku
        assert refused.status_code == 422
        assert refused.json()["detail"][0]["loc"] == ["body", "name"]


class TestOrders:
    def test_are_placed_with_money_and_times_in_the_contracts_format(
        self, customer: User, product: Product
    ) -> None:
        body = {"lines": [{"product_id": product.pk, "quantity": 2}]}

        response = post(bearer(customer), "orders/", body)

        assert response.status_code == 201
        order = response.json()
        assert order["total"] == f"{product.price * 2:.2f}"
        assert order["lines"] == [
            {
                "product_id": product.pk,
                "sku": product.sku,
                "quantity": 2,
                "unit_price": f"{product.price:.2f}",
            }
        ]
        assert ISO_UTC.match(order["created_at"])
        assert ISO_UTC.match(order["updated_at"])
        # Every microsecond: Django's JSON encoder, ninja's default, would keep milliseconds.
        created_at = datetime.fromisoformat(order["created_at"])
        assert created_at == Order.objects.get().created_at

    @pytest.mark.parametrize("quantity", ["2", True, 1.5, None, 0, 2**31])
    def test_refuse_a_quantity_that_is_not_a_strict_integer_in_range(
        self, customer: User, product: Product, quantity: Any
    ) -> None:
        body = {"lines": [{"product_id": product.pk, "quantity": quantity}]}

        response = post(bearer(customer), "orders/", body)

        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "lines", 0, "quantity"]
        assert not Order.objects.exists()

    def test_replay_the_first_order_for_the_same_idempotency_key(
        self, customer: User, product: Product
    ) -> None:
        client = bearer(customer)
        body = {"lines": [{"product_id": product.pk, "quantity": 1}]}

        first = post(client, "orders/", body, headers={"Idempotency-Key": "k-1"})
        again = post(client, "orders/", body, headers={"Idempotency-Key": "k-1"})
        other = post(
            client,
            "orders/",
            {"lines": [{"product_id": product.pk, "quantity": 2}]},
            headers={"Idempotency-Key": "k-1"},
        )

        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json() == first.json()
        assert other.status_code == 422
        assert other.json()["code"] == "idempotency_key_reused"
        assert Order.objects.count() == 1

    def test_refuse_more_than_the_stock_with_a_domain_code(
        self, customer: User, product: Product
    ) -> None:
        body = {"lines": [{"product_id": product.pk, "quantity": product.stock + 1}]}

        response = post(bearer(customer), "orders/", body)

        assert response.status_code == 409
        assert response.json() == {
            "code": "insufficient_stock",
            "detail": response.json()["detail"],
        }

    def test_of_others_are_404(
        self, customer: User, other_customer: User, make_order: Callable[..., Order]
    ) -> None:
        order = make_order(customer=other_customer)

        response = bearer(customer).get(f"{API}orders/{order.pk}")

        assert response.status_code == 404

    def test_are_listed_in_three_queries_however_many(
        self,
        customer: User,
        make_order: Callable[..., Order],
        django_assert_num_queries: DjangoAssertNumQueries,
    ) -> None:
        for _ in range(5):
            make_order(customer=customer)
        client = bearer(customer)

        with django_assert_num_queries(4):  # the token, the count, the page, its lines
            response = client.get(API + "orders/")

        assert response.json()["count"] == 5

    def test_are_filtered_by_status_and_creation_time(
        self, customer: User, make_order: Callable[..., Order]
    ) -> None:
        now = datetime.now(tz=UTC)
        old = make_order(customer=customer, created_at=now - timedelta(days=10))
        paid = make_order(customer=customer, status=Order.Status.PAID)
        client = bearer(customer)

        def ids(**params: str) -> list[int]:
            response = client.get(API + "orders/", params)
            assert response.status_code == 200, response.json()
            return [order["id"] for order in response.json()["results"]]

        assert ids(status="paid") == [paid.pk]
        assert ids(created_before=(now - timedelta(days=1)).date().isoformat()) == [old.pk]
        assert ids(created_after=(now - timedelta(days=1)).isoformat()) == [paid.pk]
        assert ids(ordering="created_at") == [old.pk, paid.pk]

    def test_are_ordered_by_total(self, customer: User, make_order: Callable[..., Order]) -> None:
        cheap = make_order(customer=customer, lines=[(ProductFactory.create(price=Decimal(1)), 1)])
        dear = make_order(customer=customer, lines=[(ProductFactory.create(price=Decimal(9)), 1)])

        response = bearer(customer).get(API + "orders/", {"ordering": "-total"})

        assert [order["id"] for order in response.json()["results"]] == [dear.pk, cheap.pk]

    def test_refuse_an_unknown_filter_value(self, customer: User) -> None:
        response = bearer(customer).get(API + "orders/", {"ordering": "customer"})

        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["query", "ordering"]

    def test_move_along_the_status_machine_within_a_customers_rights(
        self, customer: User, make_order: Callable[..., Order]
    ) -> None:
        order = make_order(customer=customer)
        client = bearer(customer)
        url = f"orders/{order.pk}/transition"

        paid = post(client, url, {"status": "paid"})
        shipped = post(client, url, {"status": "shipped"})
        back = post(client, url, {"status": "pending"})

        assert paid.status_code == 200
        assert paid.json()["status"] == "paid"
        assert shipped.status_code == 403
        assert shipped.json()["code"] == "transition_not_permitted"
        assert back.status_code == 403

    def test_refuse_a_move_the_machine_forbids(
        self, staff: User, make_order: Callable[..., Order]
    ) -> None:
        order = make_order(status=Order.Status.DELIVERED)

        response = post(bearer(staff), f"orders/{order.pk}/transition", {"status": "paid"})

        assert response.status_code == 409
        assert response.json()["code"] == "invalid_transition"

    def test_answer_400_in_json_to_too_many_query_fields_even_when_debugging(
        self, customer: User, settings: Any
    ) -> None:
        settings.DEBUG = True
        settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
        query = "&".join(f"f{n}=1" for n in range(20))

        response = bearer(customer).get(f"{API}orders/?{query}")

        assert response.status_code == 400
        assert "detail" in response.json()

    def test_answer_a_wrong_method_with_json(self, customer: User) -> None:
        response = bearer(customer).delete(API + "orders/")

        assert response.status_code == 405
        assert "GET" in response["Allow"]
        assert "detail" in response.json()


class TestUserOrders:
    def test_are_read_in_a_constant_number_of_queries(
        self,
        customer: User,
        make_order: Callable[..., Order],
        django_assert_num_queries: DjangoAssertNumQueries,
    ) -> None:
        for _ in range(3):
            make_order(
                customer=customer,
                lines=[(ProductFactory.create(), 1), (ProductFactory.create(), 2)],
            )
        client = bearer(customer)

        with django_assert_num_queries(3):  # the token (and its user), the orders, their lines
            response = client.get(f"{API}users/{customer.pk}/orders")

        body = response.json()
        assert body["user"]["id"] == customer.pk
        assert len(body["orders"]) == 3
        assert all(len(order["lines"]) == 2 for order in body["orders"])

    def test_of_someone_else_are_404_for_customers(self, customer: User) -> None:
        other = UserFactory.create()

        response = bearer(customer).get(f"{API}users/{other.pk}/orders")

        assert response.status_code == 404
        assert "detail" in response.json()
