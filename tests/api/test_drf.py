"""What only the Django REST Framework style does: the browsable API, the OpenAPI schema,
`Token` and `Bearer` prefixes, session CSRF, throttles, pagination, filters and ordering.

The behaviour every style shares is in test_contract.py.
"""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.management import call_command
from django.test import Client

from api.drf.errors import exception_handler
from orders.factories import DEFAULT_PASSWORD, OrderFactory, ProductFactory
from orders.models import Order, Product
from users.models import User
from users.services import token_issue

pytestmark = pytest.mark.django_db

PREFIX = "/api/drf/"


def bearer(user: User, keyword: str = "Bearer") -> dict[str, str]:
    return {"Authorization": f"{keyword} {token_issue(user=user)}"}


def post(client: Client, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    return client.post(
        PREFIX + path, json.dumps(body), content_type="application/json", headers=headers
    )


def sign_up_body(**changes: Any) -> dict[str, Any]:
    return {"email": "ada@example.com", "name": "Ada", "age": 36, "password": DEFAULT_PASSWORD} | (
        changes
    )


class TestBrowsableApi:
    def test_the_root_renders_html_for_a_browser(self, client, customer):
        client.force_login(customer)
        response = client.get(PREFIX, headers={"Accept": "text/html"})
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/html")
        assert b"http://testserver/api/drf/orders" in response.content

    def test_an_anonymous_browser_is_offered_the_login_page(self, client):
        response = client.get(PREFIX, headers={"Accept": "text/html"})
        assert response.status_code == 401
        assert b"/api/drf/auth/login/" in response.content

    def test_the_root_lists_the_resources_as_json_for_a_client(self, client, customer):
        body = client.get(PREFIX, headers=bearer(customer)).json()
        assert set(body) == {"users", "products", "orders"}

    def test_paths_answer_with_and_without_a_trailing_slash(self, client, customer):
        headers = bearer(customer)
        assert client.get(f"{PREFIX}orders", headers=headers).status_code == 200
        assert client.get(f"{PREFIX}orders/", headers=headers).status_code == 200


class TestSchema:
    def test_the_schema_endpoint_serves_openapi_3(self, client):
        response = client.get(f"{PREFIX}schema/", {"format": "json"})
        assert response.status_code == 200
        schema = response.json()
        assert schema["openapi"].startswith("3.")
        assert f"{PREFIX}orders/{{id}}/transition/" in schema["paths"]
        assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"

    def test_the_schema_documents_the_idempotency_key_and_error_bodies(self, client):
        schema = client.get(f"{PREFIX}schema/", {"format": "json"}).json()
        create = schema["paths"][f"{PREFIX}orders/"]["post"]
        assert {"in": "header", "name": "Idempotency-Key"}.items() <= create["parameters"][
            0
        ].items()
        assert {"201", "400", "401", "409", "422", "429"} <= set(create["responses"])
        domain_error = schema["components"]["schemas"]["DomainError"]
        assert domain_error["required"] == ["code", "detail"]

    def test_the_schema_states_the_strict_query_parameters(self, client):
        paths = client.get(f"{PREFIX}schema/", {"format": "json"}).json()["paths"]
        params = {p["name"]: p["schema"] for p in paths[f"{PREFIX}orders/"]["get"]["parameters"]}
        assert params["page"]["minimum"] == params["page_size"]["minimum"] == 1
        assert params["ordering"]["enum"] == ["created_at", "-created_at", "total", "-total"]
        assert [each["format"] for each in params["created_after"]["anyOf"]] == [
            "date-time",
            "date",
        ]
        assert "400" in paths[f"{PREFIX}products/"]["get"]["responses"]

    def test_spectacular_validates_it_without_warnings(self, tmp_path: Path):
        out = tmp_path / "schema.yaml"
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
        assert out.read_text().startswith("openapi: 3.")

    def test_swagger_ui_renders(self, client):
        response = client.get(f"{PREFIX}docs/")
        assert response.status_code == 200
        assert b"swagger-ui" in response.content


class TestAuthentication:
    @pytest.mark.parametrize("keyword", ["Bearer", "Token", "bearer"])
    def test_both_token_keywords_work(self, client, customer, keyword):
        response = client.get(f"{PREFIX}users/{customer.pk}", headers=bearer(customer, keyword))
        assert response.status_code == 200
        assert response.json()["id"] == customer.pk

    @pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Bearer wrong", "Token \xe9"])
    def test_a_bad_token_header_is_a_401_asking_for_bearer(self, client, customer, header):
        response = client.get(f"{PREFIX}orders/", headers={"Authorization": header})
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Bearer"

    def test_an_anonymous_request_is_a_401_asking_for_bearer(self, client):
        response = client.get(f"{PREFIX}orders/")
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Bearer"
        assert "detail" in response.json()

    def test_a_session_write_needs_the_csrf_token(self, customer, product):
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(customer)
        browser.get(PREFIX, headers={"Accept": "text/html"})  # sets the CSRF cookie
        body = {"lines": [{"product_id": product.pk, "quantity": 1}]}

        refused = post(browser, "orders/", body)
        accepted = post(
            browser, "orders/", body, {"X-CSRFToken": browser.cookies["csrftoken"].value}
        )

        assert refused.status_code == 403
        assert "CSRF" in refused.json()["detail"]
        assert accepted.status_code == 201
        assert Order.objects.count() == 1

    def test_a_token_write_needs_no_csrf_token(self, customer, product):
        body = {"lines": [{"product_id": product.pk, "quantity": 1}]}
        response = post(Client(enforce_csrf_checks=True), "orders/", body, bearer(customer))
        assert response.status_code == 201

    def test_auth_token_issues_a_token_for_good_credentials(self, client, customer):
        response = post(
            client, "auth/token", {"email": customer.email, "password": DEFAULT_PASSWORD}
        )
        assert response.status_code == 200
        token = response.json()["token"]
        mine = client.get(
            f"{PREFIX}users/{customer.pk}", headers={"Authorization": f"Token {token}"}
        )
        assert mine.status_code == 200

    @pytest.mark.parametrize("body", [{}, {"email": "a@example.com"}, {"password": "x"}])
    def test_auth_token_refuses_missing_fields_by_name(self, client, body):
        response = post(client, "auth/token", body)
        assert response.status_code == 400
        assert {"email", "password"} - set(body) <= set(response.json())


class TestThrottling:
    def test_sign_up_is_throttled_past_its_rate_with_retry_after(self, client, settings):
        settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "signup": "2/hour"}
        responses = [
            post(client, "users/", sign_up_body(email=f"u{i}@example.com")) for i in range(3)
        ]
        assert [r.status_code for r in responses] == [201, 201, 429]
        assert 0 < int(responses[-1]["Retry-After"]) <= 3600
        assert User.objects.count() == 2

    def test_a_forged_forwarded_for_header_does_not_reset_the_count(self, client, settings):
        settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "signup": "1/hour"}
        first = post(
            client, "users/", sign_up_body(email="a@example.com"), {"X-Forwarded-For": "1.1.1.1"}
        )
        second = post(
            client, "users/", sign_up_body(email="b@example.com"), {"X-Forwarded-For": "2.2.2.2"}
        )
        assert (first.status_code, second.status_code) == (201, 429)

    def test_auth_token_is_throttled_per_address_even_when_logged_in(
        self, client, customer, settings
    ):
        settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "token": "2/min"}
        body = {"email": customer.email, "password": "wrong"}
        statuses = [
            post(client, "auth/token", body, bearer(customer)).status_code for _ in range(3)
        ]
        assert statuses == [401, 401, 429]

    def test_the_user_rate_counts_each_user_apart(self, client, customer, other_customer, settings):
        settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "user": "2/min"}
        mine, theirs = bearer(customer), bearer(other_customer)
        statuses = [client.get(f"{PREFIX}orders/", headers=mine).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        assert client.get(f"{PREFIX}orders/", headers=theirs).status_code == 200

    def test_the_anonymous_rate_applies_where_no_login_is_needed(self, client, settings):
        # Elsewhere an anonymous request is refused (401) before throttles are counted.
        settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "anon": "1/min"}
        statuses = [client.get(f"{PREFIX}docs/").status_code for _ in range(2)]
        assert statuses == [200, 429]


class TestPagination:
    @pytest.fixture
    def products(self) -> list[Product]:
        return ProductFactory.create_batch(105)

    def test_the_page_size_defaults_to_the_setting(self, client, customer, products):
        body = client.get(f"{PREFIX}products/", headers=bearer(customer)).json()
        assert (body["count"], len(body["results"])) == (105, 20)
        assert body["next"].startswith("http://testserver/api/drf/products/?page=2")
        assert body["previous"] is None

    @pytest.mark.parametrize(("asked", "got"), [("1000", 100), ("100", 100), ("7", 7), ("+7", 7)])
    def test_a_page_size_is_capped_at_100(self, client, customer, products, asked, got):
        response = client.get(f"{PREFIX}products/", {"page_size": asked}, headers=bearer(customer))
        assert len(response.json()["results"]) == got

    def test_a_page_past_the_end_is_a_404(self, client, customer, products):
        response = client.get(f"{PREFIX}products/", {"page": "99"}, headers=bearer(customer))
        assert response.status_code == 404
        assert "detail" in response.json()

    # DRF's own paginator ignores a page size it cannot read and reads `page=` as 1, `last` as
    # the last page; the schema says integers from 1.
    @pytest.mark.parametrize("value", ["", "x", "last", "0", "-1", "1.0", " 1", "1_0", "\u0661"])
    @pytest.mark.parametrize("param", ["page", "page_size"])
    def test_a_page_or_size_not_a_positive_integer_is_a_400(self, client, customer, param, value):
        response = client.get(f"{PREFIX}products/", {param: value}, headers=bearer(customer))
        assert response.status_code == 400
        assert set(response.json()) == {param}

    def test_one_400_names_both_bad_parameters(self, client, customer):
        params = {"page": "0", "page_size": "x"}
        response = client.get(f"{PREFIX}orders/", params, headers=bearer(customer))
        assert response.json() == {
            "page": ["Ensure this value is greater than or equal to 1."],
            "page_size": ["A valid integer is required."],
        }


class TestOrderFiltersAndOrdering:
    @pytest.fixture
    def orders(self, customer) -> dict[str, Order]:
        cheap = ProductFactory.create(price=Decimal("1.00"))
        dear = ProductFactory.create(price=Decimal("50.00"))
        now = datetime.now(UTC)
        return {
            "old": OrderFactory.create(
                customer=customer, lines=[(dear, 1)], created_at=now - timedelta(days=10)
            ),
            "paid": OrderFactory.create(
                customer=customer,
                lines=[(cheap, 3)],
                status="paid",
                created_at=now - timedelta(days=2),
            ),
            "new": OrderFactory.create(customer=customer, lines=[(cheap, 1)]),
        }

    def ids(self, client: Client, user: User, **params: str) -> list[int]:
        response = client.get(f"{PREFIX}orders/", params, headers=bearer(user))
        assert response.status_code == 200, response.content
        return [order["id"] for order in response.json()["results"]]

    def test_newest_first_by_default(self, client, customer, orders):
        assert self.ids(client, customer) == [orders[k].pk for k in ("new", "paid", "old")]

    def test_filters_by_status(self, client, customer, orders):
        assert self.ids(client, customer, status="paid") == [orders["paid"].pk]

    def test_filters_by_a_creation_window_of_dates_or_datetimes(self, client, customer, orders):
        week_ago = (datetime.now(UTC) - timedelta(days=7)).date().isoformat()
        yesterday = (datetime.now(UTC) - timedelta(days=1)).isoformat().replace("+00:00", "Z")
        window = self.ids(client, customer, created_after=week_ago, created_before=yesterday)
        assert window == [orders["paid"].pk]

    @pytest.mark.parametrize(
        ("ordering", "expected"),
        [("total", ["new", "paid", "old"]), ("-total", ["old", "paid", "new"])],
    )
    def test_orders_by_total(self, client, customer, orders, ordering, expected):
        assert self.ids(client, customer, ordering=ordering) == [orders[k].pk for k in expected]

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"status": "lost"}, "status"),
            ({"created_after": "yesterday"}, "created_after"),
            # Parses, but has no UTC equivalent: the query would overflow.
            ({"created_before": "9999-12-31T23:59:59-23:00"}, "created_before"),
            # Given but empty: not silently "no filter".
            ({"status": ""}, "status"),
            ({"created_after": ""}, "created_after"),
            # DRF's OrderingFilter would ignore these; the contract names four values.
            ({"ordering": "id"}, "ordering"),
            ({"ordering": "total,-created_at"}, "ordering"),
            ({"ordering": ""}, "ordering"),
        ],
    )
    def test_a_bad_filter_is_refused_by_name(self, client, customer, orders, params, field):
        response = client.get(f"{PREFIX}orders/", params, headers=bearer(customer))
        assert response.status_code == 400
        assert field in response.json()

    def test_the_browsable_api_shows_a_bad_ordering_as_a_400(self, client, customer):
        client.force_login(customer)
        response = client.get(
            f"{PREFIX}orders/", {"ordering": "id"}, headers={"Accept": "text/html"}
        )
        assert response.status_code == 400

    def test_times_are_utc_with_a_z(self, client, customer, orders):
        order = client.get(f"{PREFIX}orders/{orders['new'].pk}", headers=bearer(customer)).json()
        assert order["created_at"].endswith("Z")
        assert order["updated_at"].endswith("Z")


class TestProducts:
    def test_customers_get_a_403_for_any_write(self, client, customer, product):
        headers = bearer(customer)
        body = {"sku": "X", "name": "X", "price": "1.00", "stock": 1}
        created = post(client, "products/", body, headers)
        replaced = client.put(
            f"{PREFIX}products/{product.pk}", json.dumps(body), "application/json", headers=headers
        )
        assert (created.status_code, replaced.status_code) == (403, 403)

    def test_staff_see_inactive_products_and_may_replace_one(self, client, staff):
        retired = ProductFactory.create(is_active=False)
        body = {"sku": "NEW", "name": "New", "price": "2.00", "stock": 3, "is_active": True}
        response = client.put(
            f"{PREFIX}products/{retired.pk}",
            json.dumps(body),
            "application/json",
            headers=bearer(staff),
        )
        assert response.status_code == 200
        assert response.json() == {"id": retired.pk, **body}

    def test_a_change_to_a_taken_sku_is_refused_by_the_domain(self, client, staff, product):
        other = ProductFactory.create()
        response = client.patch(
            f"{PREFIX}products/{other.pk}",
            json.dumps({"sku": product.sku, "stock": 0}),
            "application/json",
            headers=bearer(staff),
        )
        assert (response.status_code, set(response.json())) == (400, {"sku"})
        other.refresh_from_db()
        assert other.sku != product.sku
        assert other.stock != 0

    def test_products_cannot_be_deleted(self, client, staff, product):
        response = client.delete(f"{PREFIX}products/{product.pk}", headers=bearer(staff))
        assert response.status_code == 405
        assert Product.objects.filter(pk=product.pk).exists()


class TestValidation:
    @pytest.mark.parametrize("age", [1.5, True, "twenty", None, "1e3"])
    def test_sign_up_refuses_an_age_that_is_not_an_integer(self, client, age):
        response = post(client, "users/", sign_up_body(age=age))
        assert response.status_code == 400
        assert set(response.json()) == {"age"}

    # DRF's own fields coerce `-4.9e-128` to a name, `"36"` to an age, `0` to false; these
    # take each field only in the JSON type the schema gives it.
    @pytest.mark.parametrize(
        ("changes", "error"),
        [
            ({"name": -4.9e-128}, "Not a valid string."),
            ({"password": 12345678901}, "Not a valid string."),
            ({"email": " ada@example.com"}, "Enter a valid email address."),
            ({"age": "36"}, "A valid integer is required."),
            # Too long as sent, though not once trimmed.
            ({"name": "x" * 150 + " "}, "Ensure this field has no more than 150 characters."),
        ],
    )
    def test_sign_up_takes_each_field_in_its_documented_type_only(self, client, changes, error):
        response = post(client, "users/", sign_up_body(**changes))
        assert (response.status_code, response.json()) == (400, {k: [error] for k in changes})
        assert not User.objects.exists()

    def test_an_integer_may_have_a_zero_fraction(self, client):
        response = post(client, "users/", sign_up_body(age=36.0))
        assert (response.status_code, response.json()["age"]) == (201, 36)

    @pytest.mark.parametrize(
        "changes",
        [
            {"sku": 7},
            {"name": ["New"]},
            {"stock": "3"},
            {"is_active": 0},
            {"is_active": "true"},
            {"price": 2.5},
            *({"price": price} for price in [" 2.50", "1e2", "+2", "\u0662", "12345678901"]),
        ],
        ids=repr,
    )
    def test_a_product_takes_each_field_in_its_documented_type_only(self, client, staff, changes):
        body = {"sku": "NEW", "name": "New", "price": "2.00", "stock": 3} | changes
        response = post(client, "products/", body, bearer(staff))
        assert (response.status_code, set(response.json())) == (400, set(changes))
        assert not Product.objects.exists()

    @pytest.mark.parametrize("quantity", [1.5, True, "1.5", "1"])
    def test_an_order_line_refuses_a_quantity_that_is_not_an_integer(
        self, client, customer, product, quantity
    ):
        body = {"lines": [{"product_id": product.pk, "quantity": quantity}]}
        response = post(client, "orders/", body, bearer(customer))
        assert response.status_code == 400
        assert response.json() == {"lines": {"0": {"quantity": ["A valid integer is required."]}}}

    @pytest.mark.parametrize("key", ["", "k" * 256])
    def test_a_bad_idempotency_key_is_refused_by_name(self, client, customer, product, key):
        body = {"lines": [{"product_id": product.pk, "quantity": 1}]}
        response = post(client, "orders/", body, {"Idempotency-Key": key, **bearer(customer)})
        assert response.status_code == 400
        assert "Idempotency-Key" in response.json()
        assert not Order.objects.exists()

    def test_the_domains_field_errors_become_a_field_map(self, client, customer):
        response = post(client, "users/", sign_up_body(email=customer.email, password="password"))
        assert response.status_code == 400
        assert set(response.json()) == {"email", "password"}


class TestExceptionHandler:
    def test_a_django_error_without_fields_is_a_non_field_error(self):
        response = exception_handler(DjangoValidationError("Nope."), {})
        assert response is not None
        assert (response.status_code, response.data) == (400, {"non_field_errors": ["Nope."]})

    def test_other_errors_are_left_to_django(self):
        assert exception_handler(RuntimeError("boom"), {}) is None
