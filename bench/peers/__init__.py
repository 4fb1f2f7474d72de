"""The reference apps: the article's endpoint in FastAPI and in Flask, outside Django.

Both serve the contract's `GET users/{id}/orders` with the same token check (`users.Token`,
SHA-256 digests) and the same queries as the Django styles, on a psycopg pool. The read's
SQL (`orders.sql`) and the JSON document (`orders.contract`) are the ones orderdesk's own
fast path runs (both Django-free), so the two apps differ from it and from each other only in
their framework's idiom; the token lookup as one statement is theirs.

Beside them, the peers as their own users write them: SQLAlchemy 2 models (`models`) and
pydantic response models (`schemas`) in FastAPI (`fastapi_sqla`, `fastapi_sqla_sync`,
`fastapi_sqla_tuned`, `fastapi_pydantic`) and Flask-SQLAlchemy in Flask (`flask_sqla`).
Every connection reads in UTC (`CONNECT_OPTIONS`), so times arrive as Pydantic writes the
contract's `Z`; the psycopg pools run in autocommit (`PSYCOPG_KWARGS`): three reads need no
transaction.
"""

import hashlib
import os
from typing import Any

from orders.contract import UserRow
from orders.contract import user_orders_document as user_orders_json
from orders.sql import LINES_SQL, ORDERS_SQL, USER_SQL

__all__ = [
    "CONNECT_OPTIONS",
    "DATABASE_URL",
    "INVALID_TOKEN",
    "LINES_SQL",
    "NOT_AUTHENTICATED",
    "NOT_FOUND",
    "ORDERS_SQL",
    "POOL_SIZE",
    "PSYCOPG_KWARGS",
    "USER_SQL",
    "VIEWER_SQL",
    "bearer_digest",
    "key_digest",
    "sqlalchemy_url",
    "user_orders_json",
    "visible",
]

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "")
POOL_SIZE = int(os.environ.get("BENCH_POOL_SIZE", "32"))
# libpq's `options`: the session's time zone, so timestamptz values arrive in UTC.
CONNECT_OPTIONS = "-c TimeZone=UTC"
# psycopg pools' connection arguments: autocommit (no BEGIN/COMMIT around three reads), UTC.
PSYCOPG_KWARGS: dict[str, Any] = {"autocommit": True, "options": CONNECT_OPTIONS}


def sqlalchemy_url(database_url: str = DATABASE_URL) -> str:
    """`postgres://...` as SQLAlchemy names it with psycopg 3: `postgresql+psycopg://...`.

    The same URL serves `create_engine` and `create_async_engine` (psycopg does both).
    """
    _, _, rest = database_url.partition("://")
    return f"postgresql+psycopg://{rest}"


def key_digest(key: str) -> str:
    """The SHA-256 hex digest of a token key, as `users.Token` stores it."""
    return hashlib.sha256(key.encode()).hexdigest()


def bearer_digest(header: str | None) -> str | None:
    """The SHA-256 digest of an `Authorization: Bearer <key>` header's key, or None."""
    scheme, _, key = (header or "").partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        return None
    return key_digest(key)


# The token's user, in one query (the ORM's `Token.objects.select_related("user")`).
VIEWER_SQL = """
SELECT u.id, u.email, u.name, u.age, u.is_active, u.is_staff
FROM users_token t JOIN users_user u ON u.id = t.user_id
WHERE t.digest = %s LIMIT 1
"""


def visible(viewer: UserRow, user_id: int) -> bool:
    """That user themself, or staff: the contract's rule (`users.models.may_see`), on a row."""
    return viewer[0] == user_id or viewer[5]


NOT_AUTHENTICATED = {"detail": "Authentication credentials were not provided."}
INVALID_TOKEN = {"detail": "Invalid token."}
NOT_FOUND = {"detail": "Not found."}
