"""Which skips a CI run expects: the rest mean a real part went missing, and fail the run.

In CI (`CI` set) every real part is there: PostgreSQL for the second run, Redis, Chromium,
wrk, the PostgreSQL server binaries. So the only skips a run may have are the tests of the
other database: the PostgreSQL-only ones on the SQLite run, the SQLite-only ones on the
PostgreSQL run. A lost Redis or PostgreSQL would otherwise skip its tests and leave CI green.
"""

from collections.abc import Iterable

# Reasons a run on each database expects, by how they start.
EXPECTED = {
    "sqlite": ("needs PostgreSQL",),
    "postgresql": ("the embedded default is SQLite",),
}


def unexpected(reasons: Iterable[str], vendor: str) -> list[str]:
    """The skip reasons (pytest's, with or without its "Skipped: ") a run on `vendor` should
    not have."""
    expected = EXPECTED.get(vendor, ())
    return [
        reason for reason in reasons if not reason.removeprefix("Skipped: ").startswith(expected)
    ]
