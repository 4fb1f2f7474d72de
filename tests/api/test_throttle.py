"""One throttle policy (api/throttle.py): every style counts the same scopes the same way.

The two-process case, where the counters must live in Redis, is in
tests/ops/test_throttle_processes.py.
"""

import logging
import re

import pytest
from django.core.exceptions import ImproperlyConfigured

from orders.factories import DEFAULT_PASSWORD
from runtime.throttle import Rate, parse_rate
from tests.servers import free_port

from .conftest import ALL_STYLES, READ_STYLES, Api

pytestmark = pytest.mark.django_db


def with_rates(settings, **rates: str) -> None:
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, **rates}


def sign_up(n: int) -> dict[str, object]:
    return {
        "email": f"throttled{n}@example.com",
        "name": "Throttled",
        "age": 30,
        "password": "a-long-enough-passphrase",
    }


class TestRates:
    @pytest.mark.parametrize(
        ("text", "rate"),
        [
            ("60/min", Rate(60, 60)),
            ("10/hour", Rate(10, 3600)),
            ("5/s", Rate(5, 1)),
            ("100/day", Rate(100, 86400)),
        ],
    )
    def test_a_rate_is_requests_per_period(self, text, rate):
        assert parse_rate(text) == rate

    @pytest.mark.parametrize("text", ["sixty/min", "60", "60/week", "-1/min"])
    def test_a_malformed_rate_is_a_configuration_error(self, text):
        with pytest.raises(ImproperlyConfigured, match=re.escape("<requests>/<s|m|h|d>")):
            parse_rate(text)


class TestTheUserBudget:
    def test_every_read_is_throttled_by_the_user_rate(self, reader, customer, settings):
        with_rates(settings, user="2/min")
        replies = [reader.get(f"users/{customer.pk}/orders", user=customer) for _ in range(3)]
        assert [reply.status_code for reply in replies] == [200, 200, 429]
        assert 0 < int(replies[-1]["Retry-After"]) <= 60
        assert replies[-1].json()["detail"]  # each style words it its own way

    def test_is_one_budget_across_styles(self, every_reader, customer, settings):
        with_rates(settings, user="4/min")
        statuses = [
            every_reader[style].get(f"users/{customer.pk}/orders", user=customer).status_code
            for style in READ_STYLES
        ]
        assert statuses == [200] * 4 + [429] * (len(READ_STYLES) - 4)

    def test_each_user_is_counted_apart(self, reader, customer, other_customer, settings):
        with_rates(settings, user="1/min")
        assert reader.get(f"users/{customer.pk}/orders", user=customer).status_code == 200
        assert reader.get(f"users/{customer.pk}/orders", user=customer).status_code == 429
        theirs = reader.get(f"users/{other_customer.pk}/orders", user=other_customer)
        assert theirs.status_code == 200


class TestTheOpenSignUp:
    @pytest.mark.parametrize("style", ALL_STYLES)
    def test_counts_the_anonymous_rate_in_every_style(self, client, style, settings):
        api = Api(style, client)
        with_rates(settings, anon="1/min", signup="100/min")
        statuses = [api.post("users/", sign_up(n)).status_code for n in range(2)]
        assert statuses == [201, 429]

    @pytest.mark.parametrize("style", ALL_STYLES)
    def test_a_forged_forwarded_for_header_is_not_a_new_client(self, client, style, settings):
        api = Api(style, client)
        with_rates(settings, signup="1/hour")
        statuses = [
            api.post("users/", sign_up(n), headers={"X-Forwarded-For": f"198.51.100.{n}"})
            for n in range(2)
        ]
        assert [reply.status_code for reply in statuses] == [201, 429]


class TestTheTokenEndpoint:
    def test_issuing_counts_the_token_rate_and_revoking_does_not(self, api, customer, settings):
        with_rates(settings, token="2/min")
        credentials = {"email": customer.email, "password": DEFAULT_PASSWORD}
        first = api.post("auth/token", credentials)
        assert first.status_code == 200, first.content
        revoked = api.delete(
            "auth/token", headers={"Authorization": f"Bearer {first.json()['token']}"}
        )
        assert revoked.status_code == 204
        statuses = [api.post("auth/token", credentials).status_code for _ in range(2)]
        assert statuses == [200, 429]

    def test_wrong_passwords_count_too(self, api, customer, settings):
        with_rates(settings, token="1/min")
        api.post("auth/token", {"email": customer.email, "password": "wrong"})
        right = api.post("auth/token", {"email": customer.email, "password": DEFAULT_PASSWORD})
        assert right.status_code == 429
        assert 0 < int(right["Retry-After"]) <= 60


class TestTheCacheDown:
    def test_requests_are_let_through_and_the_outage_logged(
        self, reader, customer, settings, caplog
    ):
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
            }
        }
        with_rates(settings, user="1/min")
        with caplog.at_level(logging.WARNING, logger="runtime.throttle"):
            statuses = [
                reader.get(f"users/{customer.pk}/orders", user=customer).status_code
                for _ in range(2)
            ]
        assert statuses == [200, 200]
        assert "Throttle counters unavailable" in caplog.text
