"""Deeply nested JSON bodies: a 400 naming the problem in every style, and the worker lives on.

Python's json parser recurses once per level and raises RecursionError somewhere past a thousand
levels; a parser that lets it out answers 500. 20,000 levels is far past that limit.
"""

import json

import pytest
from django.test import Client

from orders.factories import UserFactory
from tests.servers import request, serve_in_thread
from users.models import User
from users.services import token_issue

DEPTH = 20_000

BODIES = {
    "lines nested in lists": '{"lines": ' + "[" * DEPTH + "]" * DEPTH + "}",
    "a bare nested list": "[" * DEPTH + "]" * DEPTH,
    "nested objects": '{"a": ' * DEPTH + "1" + "}" * DEPTH,
}

# Every POST endpoint of the order and user resources, in every style that serves it.
ENDPOINTS = [
    "/api/drf/orders/",
    "/api/drf/users/",
    "/api/ninja/orders/",
    "/api/ninja/users/",
    "/api/plain/async/users/",
    "/api/plain/sync/users/",
]
PREFIXES = ["/api/drf/", "/api/ninja/", "/api/plain/async/", "/api/plain/sync/"]


@pytest.fixture
def user(db: None) -> User:
    return UserFactory.create()


def bearer(user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_issue(user=user)}"}


def assert_names_the_nesting(status: int, content_type: str, body: bytes) -> None:
    assert status == 400, body[:300]
    assert content_type.startswith("application/json")
    assert "nested too deeply" in json.loads(body)["detail"]


class TestABodyNestedTwentyThousandLevelsDeep:
    @pytest.mark.parametrize("endpoint", ENDPOINTS)
    @pytest.mark.parametrize("shape", BODIES)
    def test_is_refused_with_a_400_naming_the_nesting(self, client, user, endpoint, shape):
        # The test client re-raises what a view lets out, so a RecursionError fails here.
        response = client.post(
            endpoint, BODIES[shape], content_type="application/json", headers=bearer(user)
        )

        assert_names_the_nesting(response.status_code, response["Content-Type"], response.content)

    @pytest.mark.parametrize("prefix", PREFIXES)
    def test_leaves_the_style_serving_the_next_request(self, client, user, prefix):
        client.post(
            prefix + "users/",
            BODIES["lines nested in lists"],
            content_type="application/json",
            headers=bearer(user),
        )

        response = client.get(f"{prefix}users/{user.pk}/orders", headers=bearer(user))

        assert response.status_code == 200
        assert response.json()["user"]["id"] == user.pk


class TestABodyNestedJustShallowerThanTheParsersLimit:
    """It parses, so the schemas see it: they must refuse it as input, not recurse into it."""

    @pytest.mark.parametrize("endpoint", ENDPOINTS)
    def test_is_refused_as_invalid_input(self, client, user, endpoint):
        deep = "[" * 1000 + "]" * 1000
        body = (
            f'{{"lines": [{{"product_id": {deep}, "quantity": 1}}], "email": {deep}, '
            f'"name": "Ada", "age": {deep}, "password": "correct horse battery"}}'
        )

        response = Client().post(
            endpoint, body, content_type="application/json", headers=bearer(user)
        )

        assert 400 <= response.status_code < 500, response.content[:300]


@pytest.mark.django_db(transaction=True)
class TestALiveASGIWorker:
    def test_answers_every_deep_body_with_a_400_and_keeps_serving(self, settings):
        # Twelve sign-ups from one address, in one budget across the styles (api/throttle.py).
        settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "signup": "100/hour"}
        user = UserFactory.create()
        headers = {**bearer(user), "Content-Type": "application/json"}

        with serve_in_thread() as port:
            replies = {
                (endpoint, shape): request(port, "POST", endpoint, body=body, headers=headers)
                for endpoint in ENDPOINTS
                for shape, body in BODIES.items()
            }
            after = {
                prefix: request(port, "GET", f"{prefix}users/{user.pk}/orders", headers=headers)
                for prefix in PREFIXES
            }

        for reply in replies.values():
            assert_names_the_nesting(reply.status, reply.content_type, reply.body)
        assert {prefix: reply.status for prefix, reply in after.items()} == dict.fromkeys(
            PREFIXES, 200
        )
