import json

import pytest
from django.urls import resolve, reverse
from django.utils.html import escape

from bench import servers
from orders.factories import DEFAULT_PASSWORD
from orders.views import (
    API_STYLES,
    BAD_SIGNUP,
    BENCH_RESULTS,
    BENCH_SCENARIO,
    PEERS,
    _excerpt,
    bench_cpu,
)
from users.models import User

pytestmark = pytest.mark.django_db


class TestLandingPage:
    def test_says_what_orderdesk_is_and_where_things_are(self, client):
        response = client.get("/")
        assert response.status_code == 200
        html = response.text
        assert "<h1>orderdesk</h1>" in html
        assert f'href="{reverse("admin:index")}"' in html
        for prefix in ("/api/drf/", "/api/ninja/", "/api/plain/async/", "/api/plain/sync/"):
            assert prefix in html
        assert f'href="{reverse("login")}"' in html
        assert f'href="{reverse("compare")}"' in html
        for docs in ("/api/drf/docs/", "/api/ninja/docs"):
            assert f'href="{docs}"' in html

    def test_shows_who_is_signed_in(self, client, customer):
        client.force_login(customer)
        html = client.get("/").text
        assert customer.email in html
        assert "Log out" in html

    def test_refuses_writes(self, client):
        assert client.post("/").status_code == 405


class TestLoginAndLogout:
    def test_log_in_with_email_and_password(self, client, customer):
        response = client.post(
            reverse("login"), {"username": customer.email, "password": DEFAULT_PASSWORD}
        )
        assert response.status_code == 302
        assert response["Location"] == reverse("home")
        assert client.get("/").context["user"] == customer

    def test_a_wrong_password_shows_an_error_and_no_session(self, client, customer):
        response = client.post(reverse("login"), {"username": customer.email, "password": "nope"})
        assert response.status_code == 200
        assert 'role="alert"' in response.text
        assert not client.get("/").context["user"].is_authenticated

    def test_the_login_page_renders_the_form(self, client):
        html = client.get(reverse("login")).text
        assert "Email address" in html
        assert 'name="password"' in html

    def test_log_out_ends_the_session(self, client, customer):
        client.force_login(customer)
        response = client.post(reverse("logout"))
        assert response.status_code == 200
        assert "You are logged out" in response.text
        assert not client.get("/").context["user"].is_authenticated

    def test_logging_out_by_get_is_refused(self, client, customer):
        client.force_login(customer)
        assert client.get(reverse("logout")).status_code == 405


class TestComparePage:
    def test_shows_every_styles_handler_location_docs_and_error(self, client):
        response = client.get(reverse("compare"))
        assert response.status_code == 200
        html = response.text
        assert "async def user_orders(" in html  # ninja, read from the running code
        assert "async def user_orders_async(" in html
        assert "def user_orders_sync(" in html
        assert "def orders(self" in html  # the DRF viewset action
        for location in ("api/drf/users.py:", "api/ninja/users.py:", "api/plain/users.py:"):
            assert location in html
        assert 'href="/api/ninja/docs"' in html
        assert "Validation error: 422" in html

    def test_shows_every_tiers_handler_with_its_decorators(self, client):
        html = client.get(reverse("compare")).text
        for style in [*API_STYLES, *PEERS]:
            for tier in style.tiers:
                source, location = _excerpt(tier.handler)
                assert escape(source) in html, tier.handler
                assert location in html
        assert escape('@router.get(\n    "/tuned/users/{user_id}/orders"') in html
        assert "async def user_orders_tuned(" in html
        assert "class UserOrdersTunedView" not in html  # the method, not its class

    def test_every_tier_is_served_where_the_benchmark_measures_it(self):
        for style in [*API_STYLES, *PEERS]:
            for tier in style.tiers:
                implementation = servers.BY_NAME[tier.bench]
                assert implementation.tier == tier.tier, tier.bench
                assert tier.endpoint == f"{implementation.prefix}users/{{id}}/orders"
                if implementation.django:
                    resolve(tier.endpoint.replace("{id}", "1"))  # Resolver404 if not served

    def test_quotes_each_tiers_cpu_from_the_benchmark_run(self, client, tmp_path, settings):
        results = tmp_path / "docs" / "benchmarks-tiers.json"
        results.parent.mkdir()
        results.write_text(
            json.dumps(
                {
                    "results": [
                        {"implementation": "drf-tuned", "scenario": BENCH_SCENARIO,
                         "cpu_ms_per_request": 4.321, "failure": None},
                        {"implementation": "drf", "scenario": "L=50ms C=50 orders=10",
                         "cpu_ms_per_request": 9.0, "failure": None},
                    ]
                }
            )
        )  # fmt: skip
        assert bench_cpu(results) == {"drf-tuned": 4.321}
        assert bench_cpu(tmp_path / "missing.json") == {}

    def test_the_committed_run_measured_every_tier(self):
        cpu = bench_cpu()
        missing = [
            tier.bench
            for style in [*API_STYLES, *PEERS]
            for tier in style.tiers
            if tier.bench not in cpu
        ]
        assert not missing, f"not in {BENCH_RESULTS}: {missing}"

    @pytest.mark.parametrize("style", API_STYLES, ids=lambda s: s.key)
    def test_the_error_shown_is_what_the_style_answers(self, client, style):
        response = client.post(
            f"{style.prefix}users/", json.dumps(BAD_SIGNUP), content_type="application/json"
        )
        assert response.status_code == style.error_status
        assert response.json() == style.error_body
        assert not User.objects.exists()

    @pytest.mark.parametrize("style", API_STYLES, ids=lambda s: s.key)
    def test_the_docs_links_resolve(self, client, customer, style):
        client.force_login(customer)  # the browsable API is for logged-in clients
        for _label, url in style.docs:
            assert client.get(url, HTTP_ACCEPT="text/html").status_code == 200, url
