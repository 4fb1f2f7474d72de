"""The plain Django views, async and sync: the same cases against both prefixes."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync
from django.core.cache import cache
from django.db import connection
from django.test import AsyncClient, Client
from django.test.utils import CaptureQueriesContext
from rest_framework.fields import DateTimeField, DecimalField

from orders.factories import DEFAULT_PASSWORD, OrderFactory, ProductFactory
from orders.models import Order
from users.models import User
from users.services import token_issue

pytestmark = pytest.mark.django_db

CSRF_SECRET = "abcdefghijklmnopqrstuvwxyz012345"  # any 32 characters of the token alphabet


@pytest.fixture(params=["/api/plain/async/", "/api/plain/sync/"], ids=["async", "sync"])
def prefix(request) -> str:
    return request.param


@pytest.fixture(autouse=True)
def _fresh_throttle_counters():
    cache.clear()
    yield
    cache.clear()


def sign_up_body(**fields) -> dict:
    return {
        "email": "new.person@example.com",
        "name": "New Person",
        "age": 30,
        "password": "a-long-enough-passphrase-9",
        **fields,
    }


def post_json(client: Client, url: str, body: object, **kwargs):
    return client.post(url, data=json.dumps(body), content_type="application/json", **kwargs)


def bearer(user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_issue(user=user)}"}


class TestPlainSignUp:
    def test_creates_the_user_with_a_hashed_password(self, client, prefix):
        response = post_json(client, f"{prefix}users/", sign_up_body(email="New@Example.COM"))

        assert response.status_code == 201
        user = User.objects.get()
        assert response.json() == {
            "id": user.pk,
            "email": "new@example.com",
            "name": "New Person",
            "age": 30,
        }
        assert user.check_password("a-long-enough-passphrase-9")
        assert user.password != "a-long-enough-passphrase-9"
        assert not user.is_staff

    def test_ignores_unknown_fields(self, client, prefix):
        body = sign_up_body(id=999, is_staff=True, is_superuser=True, favourite="tea")

        response = post_json(client, f"{prefix}users/", body)

        assert response.status_code == 201
        user = User.objects.get()
        assert user.pk != 999
        assert not user.is_staff
        assert not user.is_superuser

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("age", "twenty", "Must be an integer."),
            ("age", None, "Must be an integer."),
            ("age", True, "Must be an integer."),
            ("age", 1.5, "Must be an integer."),
            ("age", "30", "Must be an integer."),
            ("age", [30], "Must be an integer."),
            ("age", 151, "Must be between 0 and 150."),
            ("age", -1, "Must be between 0 and 150."),
            ("age", 10**30, "Must be between 0 and 150."),
            ("name", "x" * 10_000, "Ensure this field has no more than 150 characters."),
            ("name", "", "This field may not be blank."),
            ("name", "Bad\x00Name", "Null characters are not allowed."),
            ("name", "\ud800", "Must be valid Unicode text."),
            ("name", 42, "Must be a string."),
            ("name", None, "Must be a string."),
            ("email", "not-an-email", "Enter a valid email address."),
            ("email", "two@at@example.com", "Enter a valid email address."),
            ("email", '"a@b"@example.com', "Enter a valid email address."),
            ("email", "@example.com", "Enter a valid email address."),
            ("email", "someone@", "Enter a valid email address."),
            ("email", "nul\x00@example.com", "Null characters are not allowed."),
            ("email", "a" * 250 + "@example.com", "no more than 254 characters"),
            ("password", "pass\x00phrase-long-enough", "Null characters are not allowed."),
            ("password", 12345678901, "Must be a string."),
            ("password", "", "This field may not be blank."),
        ],
    )
    def test_refuses_a_bad_field_naming_it(self, client, prefix, field, value, message):
        response = post_json(client, f"{prefix}users/", sign_up_body(**{field: value}))

        assert response.status_code == 400
        errors = response.json()["errors"]
        assert set(errors) == {field}
        assert any(message in text for text in errors[field])
        assert not User.objects.exists()

    def test_refuses_missing_fields_one_entry_each(self, client, prefix):
        response = post_json(client, f"{prefix}users/", {"name": "Only A Name"})

        assert response.status_code == 400
        assert response.json() == {
            "errors": {
                "email": ["This field is required."],
                "age": ["This field is required."],
                "password": ["This field is required."],
            }
        }
        assert not User.objects.exists()

    @pytest.mark.parametrize(
        "password", ["password", "12345678", "short", "new.person@example.com"]
    )
    def test_refuses_a_weak_password(self, client, prefix, password):
        response = post_json(client, f"{prefix}users/", sign_up_body(password=password))

        assert response.status_code == 400
        assert set(response.json()["errors"]) == {"password"}
        assert not User.objects.exists()

    def test_refuses_an_email_already_taken_whatever_its_case(self, client, prefix, customer):
        response = post_json(client, f"{prefix}users/", sign_up_body(email=customer.email.upper()))

        assert response.status_code == 400
        assert set(response.json()["errors"]) == {"email"}
        assert User.objects.count() == 1

    @pytest.mark.parametrize(
        "raw",
        [
            b"",
            b"{",
            b'{"email": "a@example.com",}',
            b"\xff\xfe\xfa",
            b'{"age": ' + b"1" * 5000 + b"}",
            b"[" * 100_000,
        ],
        ids=["empty", "unclosed", "trailing-comma", "not-utf8", "huge-int", "deep-nesting"],
    )
    def test_refuses_malformed_json_with_400(self, client, prefix, raw):
        # CONTENT_TYPE too: the test client drops the content type of an empty body.
        response = client.post(
            f"{prefix}users/",
            data=raw,
            content_type="application/json",
            CONTENT_TYPE="application/json",
        )

        assert response.status_code == 400
        assert "detail" in response.json()
        assert not User.objects.exists()

    @pytest.mark.parametrize("body", [[], "text", 1, None, [sign_up_body()]])
    def test_refuses_json_that_is_not_an_object_with_400(self, client, prefix, body):
        response = post_json(client, f"{prefix}users/", body)

        assert response.status_code == 400
        assert "detail" in response.json()

    @pytest.mark.parametrize(
        "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
    )
    def test_refuses_a_body_that_is_not_json_with_415(self, client, prefix, content_type):
        response = client.post(
            f"{prefix}users/", data=json.dumps(sign_up_body()), content_type=content_type
        )

        assert response.status_code == 415
        assert "detail" in response.json()
        assert not User.objects.exists()

    def test_refuses_a_post_without_a_body_or_content_type_with_415(self, client, prefix):
        response = client.post(f"{prefix}users/")

        assert response.status_code == 415
        assert not User.objects.exists()

    def test_accepts_a_charset_on_the_content_type(self, client, prefix):
        response = client.post(
            f"{prefix}users/",
            data=json.dumps(sign_up_body()),
            content_type="application/json; charset=utf-8",
        )

        assert response.status_code == 201

    def test_refuses_a_body_over_the_upload_limit_with_413(self, client, prefix, settings):
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100

        response = post_json(client, f"{prefix}users/", sign_up_body(name="x" * 200))

        assert response.status_code == 413
        assert "detail" in response.json()
        assert not User.objects.exists()


@pytest.mark.parametrize(
    ("path", "method", "allowed"),
    [
        (path, method, allowed)
        for path, allowed in [("users/", "POST"), ("auth/token", "POST, DELETE")]
        for method in ["get", "put", "patch", "delete"]
        if method.upper() not in allowed.split(", ")
    ],
)
def test_other_methods_are_refused_with_405_json(client, prefix, path, method, allowed):
    response = getattr(client, method)(f"{prefix}{path}")

    assert response.status_code == 405
    assert response["Allow"] == allowed
    assert "detail" in response.json()


class TestPlainSignUpCsrf:
    def test_refuses_a_logged_in_browser_without_the_csrf_token(self, prefix, customer):
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(customer)

        response = post_json(browser, f"{prefix}users/", sign_up_body())

        assert response.status_code == 403
        assert response.json()["detail"].startswith("CSRF Failed")
        assert User.objects.count() == 1

    def test_accepts_a_logged_in_browser_with_the_csrf_token(self, prefix, customer):
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(customer)
        browser.cookies["csrftoken"] = CSRF_SECRET

        response = post_json(
            browser, f"{prefix}users/", sign_up_body(), headers={"X-CSRFToken": CSRF_SECRET}
        )

        assert response.status_code == 201

    def test_does_not_ask_anonymous_callers_for_a_token(self, prefix):
        response = post_json(Client(enforce_csrf_checks=True), f"{prefix}users/", sign_up_body())

        assert response.status_code == 201

    def test_does_not_ask_token_clients_for_a_token(self, prefix, customer):
        client = Client(enforce_csrf_checks=True)
        client.force_login(customer)  # a cookie too, but the bearer token decides

        response = post_json(client, f"{prefix}users/", sign_up_body(), headers=bearer(customer))

        assert response.status_code == 201


class TestPlainSignUpThrottle:
    def test_refuses_past_the_signup_rate_with_429_and_retry_after(self, client, prefix, settings):
        settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "signup": "2/day"}

        statuses = [
            post_json(client, f"{prefix}users/", sign_up_body(email=f"u{n}@example.com"))
            for n in range(3)
        ]

        assert [r.status_code for r in statuses] == [201, 201, 429]
        refused = statuses[-1]
        assert "detail" in refused.json()
        assert 0 < int(refused["Retry-After"]) <= 86_400
        assert User.objects.count() == 2

    def test_counts_bad_requests_too(self, client, prefix, settings):
        settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "signup": "1/hour"}

        post_json(client, f"{prefix}users/", {"age": "twenty"})
        response = post_json(client, f"{prefix}users/", sign_up_body())

        assert response.status_code == 429

    def test_counts_each_client_address_apart(self, client, prefix, settings):
        settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "signup": "1/hour"}

        first = post_json(client, f"{prefix}users/", sign_up_body(email="a@example.com"))
        other = post_json(
            client,
            f"{prefix}users/",
            sign_up_body(email="b@example.com"),
            REMOTE_ADDR="203.0.113.9",
        )

        assert (first.status_code, other.status_code) == (201, 201)

    def test_reads_the_rate_at_request_time(self, client, prefix, settings):
        settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "signup": "1/hour"}
        post_json(client, f"{prefix}users/", sign_up_body(email="a@example.com"))

        settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "signup": "5/hour"}
        response = post_json(client, f"{prefix}users/", sign_up_body(email="b@example.com"))

        assert response.status_code == 201


class TestPlainToken:
    @pytest.mark.parametrize(
        ("raw", "content_type", "status"),
        [
            ("{", "application/json", 400),
            ("[]", "application/json", 400),
            ("{}", "text/plain", 415),
        ],
        ids=["malformed-json", "not-an-object", "text-plain"],
    )
    def test_refuses_a_body_that_is_not_a_json_object(
        self, client, prefix, raw, content_type, status
    ):
        response = client.post(f"{prefix}auth/token", raw, content_type=content_type)

        assert response.status_code == status
        assert "detail" in response.json()

    def test_names_each_missing_field_but_the_optional_client(self, client, prefix):
        response = post_json(client, f"{prefix}auth/token", {})

        assert response.status_code == 400
        assert set(response.json()["errors"]) == {"email", "password"}


class TestPlainUserOrders:
    def test_lists_the_users_orders_newest_first_with_their_lines(self, client, prefix, customer):
        now = datetime.now(UTC)
        cheap = ProductFactory.create(sku="CHEAP-1", price=Decimal("2.50"))
        dear = ProductFactory.create(sku="DEAR-1", price=Decimal("120.00"))
        old = OrderFactory.create(
            customer=customer, lines=[(cheap, 3)], created_at=now - timedelta(days=3)
        )
        # Two orders at the same moment: the newer id comes first.
        tie_a = OrderFactory.create(customer=customer, lines=[(dear, 1), (cheap, 2)])
        tie_b = OrderFactory.create(customer=customer, lines=[(cheap, 1)])
        Order.objects.filter(pk__in=[tie_a.pk, tie_b.pk]).update(created_at=now)
        OrderFactory.create()  # someone else's

        response = client.get(f"{prefix}users/{customer.pk}/orders", headers=bearer(customer))

        assert response.status_code == 200
        body = response.json()
        assert body["user"] == {
            "id": customer.pk,
            "email": customer.email,
            "name": customer.name,
            "age": customer.age,
        }
        assert [o["id"] for o in body["orders"]] == [tie_b.pk, tie_a.pk, old.pk]
        # Lines in line-id order; the domain writes them in product-id order.
        assert body["orders"][1]["lines"] == [
            {"product_id": cheap.pk, "sku": "CHEAP-1", "quantity": 2, "unit_price": "2.50"},
            {"product_id": dear.pk, "sku": "DEAR-1", "quantity": 1, "unit_price": "120.00"},
        ]
        assert set(body["orders"][2]) == {
            "id",
            "customer_id",
            "status",
            "total",
            "created_at",
            "updated_at",
            "lines",
        }
        assert body["orders"][2]["customer_id"] == customer.pk
        assert body["orders"][2]["status"] == "pending"
        assert body["orders"][2]["total"] == "7.50"

    @pytest.mark.parametrize(
        "created_at",
        [
            datetime(2026, 11, 27, 14, 30, 53, 305123, tzinfo=UTC),
            datetime(2026, 11, 27, 14, 30, 53, tzinfo=UTC),
        ],
        ids=["microseconds", "whole-seconds"],
    )
    def test_writes_money_and_times_as_drf_does(self, client, prefix, customer, created_at):
        product = ProductFactory.create(price=Decimal("12.5"))
        order = OrderFactory.create(customer=customer, lines=[(product, 1)], created_at=created_at)

        response = client.get(f"{prefix}users/{customer.pk}/orders", headers=bearer(customer))

        rendered = response.json()["orders"][0]
        order.refresh_from_db()
        money = DecimalField(max_digits=12, decimal_places=2)
        assert rendered["created_at"] == DateTimeField().to_representation(order.created_at)
        assert rendered["updated_at"] == DateTimeField().to_representation(order.updated_at)
        assert rendered["created_at"].endswith("Z")
        assert rendered["total"] == money.to_representation(order.total) == "12.50"
        assert rendered["lines"][0]["unit_price"] == "12.50"

    def test_answers_an_empty_list_for_a_user_without_orders(self, client, prefix, customer):
        response = client.get(f"{prefix}users/{customer.pk}/orders", headers=bearer(customer))

        assert response.status_code == 200
        assert response.json()["orders"] == []

    def test_accepts_the_browser_session(self, client, prefix, customer):
        OrderFactory.create(customer=customer)
        client.force_login(customer)

        response = client.get(f"{prefix}users/{customer.pk}/orders")

        assert response.status_code == 200
        assert len(response.json()["orders"]) == 1

    def test_answers_401_without_credentials(self, client, prefix, customer):
        response = client.get(f"{prefix}users/{customer.pk}/orders")

        assert response.status_code == 401
        assert response.json() == {"detail": "Authentication credentials were not provided."}
        assert response["WWW-Authenticate"] == "Bearer"

    @pytest.mark.parametrize("header", ["Bearer not-a-real-token", "Bearer ", "bearer"])
    def test_answers_401_for_a_token_that_names_no_one(self, client, prefix, customer, header):
        client.force_login(customer)  # the token, once sent, decides

        response = client.get(
            f"{prefix}users/{customer.pk}/orders", headers={"Authorization": header}
        )

        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Bearer"

    def test_answers_401_for_a_deactivated_users_token(self, client, prefix, customer):
        headers = bearer(customer)
        User.objects.filter(pk=customer.pk).update(is_active=False)

        response = client.get(f"{prefix}users/{customer.pk}/orders", headers=headers)

        assert response.status_code == 401

    def test_hides_another_customer_behind_404(self, client, prefix, customer, other_customer):
        OrderFactory.create(customer=other_customer)

        response = client.get(f"{prefix}users/{other_customer.pk}/orders", headers=bearer(customer))

        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}

    @pytest.mark.parametrize(
        "user_id",
        ["0", str(2**63), str(10**30), "9" * 5000],
        ids=["0", "2**63", "1e30", "5000-digits"],
    )
    def test_answers_404_for_ids_no_user_has(self, client, prefix, staff, user_id):
        response = client.get(f"{prefix}users/{user_id}/orders", headers=bearer(staff))

        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}

    def test_lets_staff_see_anyones_orders(self, client, prefix, staff, customer):
        order = OrderFactory.create(customer=customer)
        client.force_login(staff)

        response = client.get(f"{prefix}users/{customer.pk}/orders")

        assert response.status_code == 200
        assert response.json()["user"]["id"] == customer.pk
        assert [o["id"] for o in response.json()["orders"]] == [order.pk]

    def test_renders_a_staff_users_missing_age_as_null(self, client, prefix, staff):
        response = client.get(f"{prefix}users/{staff.pk}/orders", headers=bearer(staff))

        assert response.json()["user"]["age"] is None

    @pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
    def test_refuses_other_methods_with_405_json(self, client, prefix, customer, method):
        response = getattr(client, method)(
            f"{prefix}users/{customer.pk}/orders", headers=bearer(customer)
        )

        assert response.status_code == 405
        assert response["Allow"] == "GET"
        assert "detail" in response.json()

    @pytest.mark.parametrize("auth", ["bearer", "session"])
    def test_runs_as_many_queries_for_50_orders_as_for_1(self, client, prefix, customer, auth):
        product = ProductFactory.create(stock=1000)
        other = ProductFactory.create(stock=1000)
        OrderFactory.create(customer=customer, lines=[(product, 1), (other, 1)])
        headers = bearer(customer) if auth == "bearer" else {}
        if auth == "session":
            client.force_login(customer)
        url = f"{prefix}users/{customer.pk}/orders"

        with CaptureQueriesContext(connection) as one:
            assert len(client.get(url, headers=headers).json()["orders"]) == 1
        OrderFactory.create_batch(49, customer=customer, lines=[(product, 1), (other, 2)])
        with CaptureQueriesContext(connection) as fifty:
            assert len(client.get(url, headers=headers).json()["orders"]) == 50

        # Who is asking (token and user, or session then user), the orders, all their lines:
        # asking for oneself reads no user again.
        assert len(one) == (3 if auth == "bearer" else 4)
        assert len(fifty) == len(one)


class TestPlainAsyncUnderAsgi:
    """The async views served as an ASGI server runs them (the Client above speaks WSGI)."""

    def test_signs_up_a_user(self):
        response = async_to_sync(AsyncClient().post)(
            "/api/plain/async/users/", data=sign_up_body(), content_type="application/json"
        )

        assert response.status_code == 201
        assert User.objects.filter(email="new.person@example.com").exists()

    def test_refuses_a_body_over_the_upload_limit_with_413(self, settings):
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100

        response = async_to_sync(AsyncClient().post)(
            "/api/plain/async/users/",
            data=sign_up_body(name="x" * 200),
            content_type="application/json",
        )

        assert response.status_code == 413
        assert not User.objects.exists()

    def test_issues_and_revokes_a_token(self, customer):
        issued = async_to_sync(AsyncClient().post)(
            "/api/plain/async/auth/token",
            data={"email": customer.email, "password": DEFAULT_PASSWORD, "client": "asgi"},
            content_type="application/json",
        )
        assert issued.status_code == 200, issued.content
        headers = {"Authorization": f"Bearer {issued.json()['token']}"}
        url = f"/api/plain/async/users/{customer.pk}/orders"
        assert async_to_sync(AsyncClient().get)(url, headers=headers).status_code == 200

        revoke = async_to_sync(AsyncClient().delete)
        revoked = revoke("/api/plain/async/auth/token", headers=headers)

        assert revoked.status_code == 204
        assert async_to_sync(AsyncClient().get)(url, headers=headers).status_code == 401

    def test_lists_orders_for_the_session_and_the_token(self, customer):
        order = OrderFactory.create(customer=customer)
        browser = AsyncClient()
        browser.force_login(customer)
        url = f"/api/plain/async/users/{customer.pk}/orders"

        by_session = async_to_sync(browser.get)(url)
        by_token = async_to_sync(AsyncClient().get)(url, headers=bearer(customer))

        assert by_session.status_code == by_token.status_code == 200
        assert [o["id"] for o in by_token.json()["orders"]] == [order.pk]
        assert by_session.json() == by_token.json()
