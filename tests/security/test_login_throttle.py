"""Password logins are throttled at every entry point (issue 14, finding 2): per account and
per client address, the right password refused too once past the rate, and the lockout said
to the user, logged, and recorded for staff to see and lift in the admin (users/backends.py)."""

import logging
import re
import uuid
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orders.factories import DEFAULT_PASSWORD, StaffFactory, UserFactory
from tests.api.conftest import ALL_STYLES, FULL_STYLES, Api
from tests.servers import REDIS_URL
from users.models import LoginLockout, User
from users.services import login_lockout_record, login_unlock

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


# --- The lockout, for staff: recorded once, listed in the admin, lifted there -----------------

LOCKOUTS = reverse("admin:users_loginlockout_changelist")


def lock_out(client, email: str, **extra: str) -> None:
    """Wrong passwords at the login page until `email` and this address are locked, and then
    some: the record is written at the first refusal only."""
    for _ in range(RATE + 3):
        client.post(reverse("login"), {"username": email, "password": "wrong"}, **extra)


def lockouts() -> list[tuple[str, str, bool]]:
    return [
        (lockout.kind, lockout.who, lockout.active)
        for lockout in LoginLockout.objects.order_by("kind")
    ]


def test_a_lockout_is_recorded_once_per_account_and_address(client, customer):
    before = timezone.now()

    lock_out(client, customer.email.upper())

    assert lockouts() == [("account", customer.email, True), ("address", "127.0.0.1", True)]
    for lockout in LoginLockout.objects.all():
        assert before <= lockout.locked_at <= timezone.now()
        # The rate's window: an hour from the first attempt.
        assert timedelta(minutes=59) <= lockout.until - before <= timedelta(hours=1, seconds=5)
        assert lockout.unlocked_by is None


@pytest.mark.parametrize("style", ALL_STYLES)
def test_auth_token_records_its_lockouts_too(client, customer, style, settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "token": "100/min"}
    api = Api(style, client)
    for _ in range(RATE + 2):
        api.post("auth/token", {"email": customer.email, "password": "x"})
    right = api.post("auth/token", {"email": customer.email, "password": DEFAULT_PASSWORD})

    assert right.status_code == 401
    assert lockouts() == [("account", customer.email, True), ("address", "127.0.0.1", True)]


def test_what_a_client_typed_is_recorded_as_text_a_database_takes():
    lockout = login_lockout_record(
        kind=LoginLockout.Kind.ACCOUNT, who="a\ud800b\x00c", ident="account:x", retry_after=60
    )

    lockout.refresh_from_db()
    assert lockout.who == "a?b\ufffdc"


@pytest.fixture
def admin(db: None) -> User:
    return StaffFactory.create(is_superuser=True)


def test_staff_see_the_lockouts_in_the_admin(client, customer, admin):
    lock_out(client, customer.email)
    client.force_login(admin)

    page = client.get(LOCKOUTS, {"state": "active"})

    assert page.status_code == 200
    assert customer.email.encode() in page.content
    assert b"127.0.0.1" in page.content
    assert client.get(LOCKOUTS, {"state": "over"}).context["cl"].result_count == 0


def test_staff_unlock_and_the_right_password_works_again(client, customer, admin):
    lock_out(client, customer.email)
    staff_client = Client()
    staff_client.force_login(admin)

    answer = staff_client.post(
        LOCKOUTS,
        {
            "action": "unlock",
            "_selected_action": [
                str(pk) for pk in LoginLockout.objects.values_list("pk", flat=True)
            ],
        },
        follow=True,
    )

    assert "Unlocked 2 lockout(s)." in [str(message) for message in answer.context["messages"]]
    assert lockouts() == [("account", customer.email, False), ("address", "127.0.0.1", False)]
    assert set(LoginLockout.objects.values_list("unlocked_by", flat=True)) == {admin.pk}
    right = client.post(
        reverse("login"), {"username": customer.email, "password": DEFAULT_PASSWORD}
    )
    assert right.status_code == 302
    assert logged_in(client)


def test_unlocking_one_that_is_over_changes_nothing(client, customer, staff):
    lock_out(client, customer.email)
    LoginLockout.objects.update(until=timezone.now() - timedelta(seconds=1))
    lockout = LoginLockout.objects.get(kind="account")

    assert login_unlock(lockout=lockout, actor=staff) is False

    lockout.refresh_from_db()
    assert lockout.unlocked_by is None
    # The throttle's count was not reset: the account is still refused.
    refused = client.post(reverse("login"), {"username": customer.email, "password": "x"})
    assert LOCKED in refused.content


@pytest.mark.redis
@pytest.mark.skipif(not REDIS_URL, reason="needs a Redis server: set REDIS_URL (CI does)")
def test_unlocking_resets_the_count_every_worker_shares_in_redis(client, customer, admin, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"orderdesk-test-{uuid.uuid4().hex}",
        }
    }
    lock_out(client, customer.email)
    assert lockouts() == [("account", customer.email, True), ("address", "127.0.0.1", True)]

    for lockout in LoginLockout.objects.all():
        assert login_unlock(lockout=lockout, actor=admin) is True

    right = client.post(
        reverse("login"), {"username": customer.email, "password": DEFAULT_PASSWORD}
    )
    assert right.status_code == 302


def test_the_admin_index_counts_the_lockouts_in_force(client, customer, admin):
    lock_out(client, customer.email)
    LoginLockout.objects.create(
        kind="account", who="over@example.com", ident="account:over", until=timezone.now()
    )
    client.force_login(admin)

    page = client.get("/admin/").content.decode()

    assert re.search(r'data-figure="lockouts"><a href="[^"]*\?state=active">2 locked now<', page)


def test_the_admin_index_leaves_the_lockouts_out_for_staff_who_may_not_see_them(client, staff):
    client.force_login(staff)

    page = client.get("/admin/").content.decode()

    assert 'data-figure="today-orders"' in page
    assert 'data-figure="lockouts"' not in page
