"""Concurrent `token_issue` calls for one user and client name, on a real PostgreSQL server.

Each thread has its own connection; a barrier releases them together (tests/orders/
test_concurrency.py). The unique (user, client) constraint decides: no call fails, one row
remains, and its key is the one that works.
"""

from orders.factories import UserFactory
from tests.orders.test_concurrency import run_concurrently
from tests.servers import LIVE_POSTGRES
from users.models import Token
from users.selectors import user_for_token
from users.services import token_issue

pytestmark = LIVE_POSTGRES


def test_racing_issues_for_one_client_name_leave_one_working_token():
    customer = UserFactory.create()

    outcome = run_concurrently(
        10, lambda _i, _round: token_issue(user=customer, client="cli"), rounds=3
    )

    assert outcome.errors == []
    assert len(outcome.results) == 30
    assert Token.objects.filter(user=customer).count() == 1
    working = [key for key in outcome.results if user_for_token(key=key) == customer]
    assert len(working) == 1


def test_racing_issues_for_other_names_each_keep_their_own():
    customer = UserFactory.create()

    outcome = run_concurrently(8, lambda i, _round: token_issue(user=customer, client=f"c{i}"))

    assert outcome.errors == []
    assert Token.objects.filter(user=customer).count() == 8
    assert all(user_for_token(key=key) == customer for key in outcome.results)
