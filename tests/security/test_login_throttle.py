"""Password logins are throttled at every entry point (issue 14, finding 2): per account and
per client address, the right password refused too once past the rate, and the lockout said
to the user and logged for staff (users/backends.py)."""

import logging

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from orders.factories import DEFAULT_PASSWORD, StaffFactory, UserFactory
from tests.api.conftest import FULL_STYLES, Api

pytestmark = pytest.mark.django_db

RATE = 3
LOCKED = b"Too many login attempts"


@pytest.fixture(autouse=True)
def login_rate(settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "login": f"{RATE}/hour"}


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("page", ["login", "admin:login"])
def test_the_right_password_is_refused_after_too_many_wrong_ones(client, page):
    user = StaffFactory.create() if page.startswith("admin") else UserFactory.create()
    url = reverse(page)
    for _ in range(RATE):
        wrong = client.post(url, {"username": user.email, "password": "wrong"})
        assert wrong.status_code == 200
        assert LOCKED not in wrong.content
    right = client.post(url, {"username": user.email, "password": DEFAULT_PASSWORD})
    assert right.status_code == 200
    assert LOCKED in right.content
    assert not logged_in(client)


def test_many_accounts_from_one_address_are_throttled_too(client):
    url = reverse("login")
    for n in range(RATE):
        client.post(url, {"username": f"nobody{n}@example.com", "password": "wrong"})
    user = UserFactory.create()
    response = client.post(url, {"username": user.email, "password": DEFAULT_PASSWORD})
    assert LOCKED in response.content
    assert not logged_in(client)


def test_another_address_may_still_log_in_to_another_account(client):
    url = reverse("login")
    for _ in range(RATE + 1):
        client.post(url, {"username": "victim@example.com", "password": "wrong"})
    user = UserFactory.create()
    response = client.post(
        url, {"username": user.email, "password": DEFAULT_PASSWORD}, REMOTE_ADDR="203.0.113.7"
    )
    assert response.status_code == 302
    assert logged_in(client)


@pytest.mark.parametrize("style", FULL_STYLES)
def test_auth_token_gives_no_token_past_the_rate(client, customer, style, settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "token": "100/min"}
    api = Api(style, client)
    for _ in range(RATE):
        assert api.post("auth/token", {"email": customer.email, "password": "x"}).status_code == 401
    right = api.post("auth/token", {"email": customer.email, "password": DEFAULT_PASSWORD})
    assert right.status_code == 401
    assert "token" not in right.json()


def test_drfs_browsable_login_is_throttled_too(client, customer):
    url = "/api/drf/auth/login/"
    for _ in range(RATE):
        client.post(url, {"username": customer.email, "password": "wrong"})
    client.post(url, {"username": customer.email, "password": DEFAULT_PASSWORD})
    assert not logged_in(client)


def test_a_lockout_is_logged_for_staff(client, caplog):
    url = reverse("login")
    with caplog.at_level(logging.WARNING, logger="users.backends"):
        for _ in range(RATE + 1):
            client.post(url, {"username": "target@example.com", "password": "wrong"})
    assert "Login throttled: account 'target@example.com'" in caplog.text
    assert django_settings.SESSION_COOKIE_NAME not in client.cookies or not logged_in(client)
