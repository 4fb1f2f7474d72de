"""Two worker processes, one Redis: a client gets the documented rate in total, not per process.

Both uvicorn processes use the test database (PostgreSQL) and `REDIS_URL`, so their throttle
counters live in Django's `RedisCache` (api/throttle.py). The client alternates between the
processes and between every API style's read of `users/{id}/orders`: one budget, counted once.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.servers import LIVE_POSTGRES_AND_REDIS, REDIS_URL, UvicornProcess, request, spawn_live
from users.models import User
from users.services import token_issue

pytestmark = LIVE_POSTGRES_AND_REDIS

RATE = 7
PATHS = [
    "/api/drf/users/{id}/orders",
    "/api/ninja/users/{id}/orders",
    "/api/plain/async/users/{id}/orders",
    "/api/plain/sync/users/{id}/orders",
    "/api/fast/users/{id}/orders",
]


def forget_throttle_counters() -> None:
    """Drop the throttle keys earlier runs left in Redis (user ids repeat between runs)."""
    client = redis.Redis.from_url(REDIS_URL or "")
    try:
        for key in client.scan_iter("orderdesk:*:throttle:*"):
            client.delete(key)
    finally:
        client.close()


@pytest.fixture
def workers(transactional_db: None, tmp_path: Path) -> Iterator[list[UvicornProcess]]:
    forget_throttle_counters()
    started: list[UvicornProcess] = []
    try:
        for _ in range(2):
            started.append(  # noqa: PERF401 (each is stopped, even if the next fails to start)
                spawn_live(tmp_path, REDIS_URL=REDIS_URL or "", API_THROTTLE_USER=f"{RATE}/hour")
            )
        for server in started:
            server.wait_until_serving()
        yield started
    finally:
        for server in started:
            server.stop()
        forget_throttle_counters()


def test_a_client_gets_the_user_rate_once_across_processes_and_styles(
    workers: list[UvicornProcess], customer: User
) -> None:
    token = token_issue(user=customer)
    headers = {"Authorization": f"Bearer {token}"}
    answers: list[tuple[int, int]] = []
    for index in range(3 * RATE):
        server, path = workers[index % 2], PATHS[index % len(PATHS)]
        reply = request(server.port, "GET", path.format(id=customer.pk), headers=headers)
        answers.append((index % 2, reply.status))
        if reply.status == 429:
            assert 0 < int(reply.headers["retry-after"]) <= 3600
        else:
            assert reply.status == 200, (path, reply.body, server.output())

    statuses = [status for _, status in answers]
    assert statuses == [200] * RATE + [429] * (2 * RATE)
    # Both processes served some of the allowed requests: the count was shared, not split.
    assert {worker for worker, status in answers if status == 200} == {0, 1}
