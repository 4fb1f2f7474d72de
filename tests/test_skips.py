"""The CI skip policy (tests/skips.py): only the other database's tests may skip."""

import pytest

from tests.skips import unexpected


@pytest.mark.parametrize(
    ("vendor", "reason"),
    [
        ("sqlite", "Skipped: needs PostgreSQL (set DATABASE_URL)"),
        ("sqlite", "needs PostgreSQL (DATABASE_URL)"),
        ("postgresql", "Skipped: the embedded default is SQLite"),
    ],
)
def test_the_other_databases_tests_may_skip(vendor, reason):
    assert unexpected([reason], vendor) == []


@pytest.mark.parametrize(
    ("vendor", "reason"),
    [
        ("sqlite", "Skipped: needs a Redis server: set REDIS_URL (CI does)"),
        ("postgresql", "Skipped: needs a Redis server: set REDIS_URL (CI does)"),
        ("postgresql", "Skipped: needs PostgreSQL (set DATABASE_URL)"),
        ("sqlite", "Skipped: the embedded default is SQLite"),
        (
            "sqlite",
            "end-to-end tests need Chromium (apt-get install chromium)",
        ),
        ("postgresql", "needs wrk (apt-get install wrk)"),
    ],
)
def test_a_missing_real_part_is_never_expected(vendor, reason):
    assert unexpected([reason], vendor) == [reason]
