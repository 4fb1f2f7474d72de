import pytest
from django.urls import reverse

from orders.factories import DEFAULT_PASSWORD

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
