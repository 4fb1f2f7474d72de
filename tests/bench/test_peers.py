"""The benchmark's peers answer the article's endpoint exactly as orderdesk's fast path does.

Each peer of `bench/peers/` (and django-bolt's, when it is installed) runs as `manage.py bench`
starts it, on the test database; so does the fast path (`fast-async`), whose answers are the
reference. The documents must be the same JSON (keys sorted) for 10 and 100 orders, and the
refusals the same statuses and bodies. About 30 s: nine servers started one after another.
"""

import importlib.util
import json
from dataclasses import dataclass

import pytest
from django.db import connection

from bench import data, servers
from tests.servers import database_url, request
from users.models import User
from users.services import token_issue

REFERENCE = "fast-async"
BOLT = servers.Implementation(
    "bolt", "django-bolt: typed async handler, Django ORM, msgspec Structs", "bolt",
    "bench.peers.bolt_settings", "/", django=True, tier="idiomatic", framework="django-bolt",
)  # fmt: skip
# The reference apps, and django-bolt's (a Django ORM behind its own server) as listed or, while
# `bench.servers` does not list it, as the bench would run it.
PEERS = [
    implementation
    for implementation in servers.IMPLEMENTATIONS
    if not implementation.django or implementation.server == "bolt"
]
if importlib.util.find_spec("django_bolt") is not None and BOLT.server not in {
    implementation.server for implementation in PEERS
}:
    PEERS.append(BOLT)
UNKNOWN_USER = 2_000_000_000


@dataclass(frozen=True)
class Answer:
    status: int
    www_authenticate: str | None
    content_type: str
    document: str  # the JSON body, keys sorted

    @classmethod
    def of(cls, status: int, headers: dict[str, str], body: bytes) -> "Answer":
        return cls(
            status=status,
            www_authenticate=headers.get("www-authenticate"),
            content_type=headers.get("content-type", "").split(";")[0],
            document=json.dumps(json.loads(body), sort_keys=True),
        )


# case -> (whose path, whose token): "10"/"100" are the bench customers with that many orders.
CASES = {
    "own, 10 orders": ("10", "10"),
    "own, 100 orders": ("100", "100"),
    "staff, another user's": ("100", "staff"),
    "no token": ("10", None),
    "unknown token": ("10", "not-a-token"),
    "inactive user's token": ("inactive", "inactive"),
    "another user's id": ("100", "10"),
    "staff, unknown user": ("unknown", "staff"),
}


def _ask(
    implementation: servers.Implementation, env: dict[str, str], paths: dict[str, str], tokens
) -> dict[str, Answer]:
    """Start the implementation as the bench does and put every case to it."""
    with servers.serving(
        implementation, env=env, probe_path=paths["10"], token=tokens["10"], cpu=None
    ) as server:
        answers = {}
        for case, (whose_path, whose_token) in CASES.items():
            token = tokens.get(whose_token, whose_token)
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            reply = request(
                server.port, "GET", implementation.prefix + paths[whose_path], headers=headers
            )
            answers[case] = Answer.of(reply.status, reply.headers, reply.body)
        return answers


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL)")
@pytest.mark.django_db(transaction=True)
class TestPeers:
    @pytest.fixture(scope="class")
    def answers(self, django_db_setup, django_db_blocker) -> dict[str, dict[str, Answer] | str]:
        """Every implementation's answer to every case (or why it did not start)."""
        url = database_url()
        with django_db_blocker.unblock():
            customers = data.seed(url, [10, 100])
            staff = User.objects.create_user(
                "peers-staff@example.com", name="Staff", age=None, is_staff=True
            )
            inactive = User.objects.create_user(
                "peers-inactive@example.com", name="Gone", age=40, is_active=False
            )
            tokens = {
                **{str(n): customer.token for n, customer in customers.items()},
                "staff": token_issue(user=staff),
                "inactive": token_issue(user=inactive),
            }
        paths = {
            **{str(n): customer.path for n, customer in customers.items()},
            "inactive": f"users/{inactive.pk}/orders",
            "unknown": f"users/{UNKNOWN_USER}/orders",
        }
        env = servers.server_env(url, 8)
        results: dict[str, dict[str, Answer] | str] = {}
        for implementation in [servers.BY_NAME[REFERENCE], *PEERS]:
            try:
                results[implementation.name] = _ask(implementation, env, paths, tokens)
            except servers.ServerFailed as failure:
                results[implementation.name] = str(failure)
        return results

    def test_the_reference_answers_every_case(self, answers) -> None:
        reference = answers[REFERENCE]
        assert isinstance(reference, dict), reference
        assert [answer.status for answer in reference.values()] == [
            200, 200, 200, 401, 401, 401, 404, 404,
        ]  # fmt: skip
        assert len(json.loads(reference["own, 100 orders"].document)["orders"]) == 100

    @pytest.mark.parametrize("name", [implementation.name for implementation in PEERS])
    @pytest.mark.parametrize("case", list(CASES))
    def test_answers_as_the_fast_path_does(self, answers, name, case) -> None:
        answer = answers[name]
        assert isinstance(answer, dict), answer  # the server's output when it did not start
        expected = answers[REFERENCE][case]
        assert answer[case].status == expected.status
        assert answer[case].content_type == "application/json"
        assert answer[case].document == expected.document
        if expected.status == 401:
            assert answer[case].www_authenticate == "Bearer"
