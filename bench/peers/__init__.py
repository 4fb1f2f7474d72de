"""The reference apps: the article's endpoint in FastAPI and in Flask, outside Django.

Both serve the contract's `GET users/{id}/orders` with the same token check (`users.Token`,
SHA-256 digests) and the same queries as the Django styles, on a psycopg pool. The SQL and the
JSON shapes come from `orders.documents` (Django-free), the module orderdesk's own fast path
runs, so the two apps differ from it and from each other only in their framework's idiom.
"""

import hashlib
import os

from orders.documents import (
    LINES_SQL,
    ORDERS_SQL,
    USER_SQL,
    VIEWER_SQL,
    user_orders_json,
    visible,
)

__all__ = [
    "DATABASE_URL",
    "INVALID_TOKEN",
    "LINES_SQL",
    "NOT_AUTHENTICATED",
    "NOT_FOUND",
    "ORDERS_SQL",
    "POOL_SIZE",
    "USER_SQL",
    "VIEWER_SQL",
    "bearer_digest",
    "user_orders_json",
    "visible",
]

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "")
POOL_SIZE = int(os.environ.get("BENCH_POOL_SIZE", "32"))


def bearer_digest(header: str | None) -> str | None:
    """The SHA-256 digest of an `Authorization: Bearer <key>` header's key, or None."""
    scheme, _, key = (header or "").partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        return None
    return hashlib.sha256(key.encode()).hexdigest()


NOT_AUTHENTICATED = {"detail": "Authentication credentials were not provided."}
INVALID_TOKEN = {"detail": "Invalid token."}
NOT_FOUND = {"detail": "Not found."}
