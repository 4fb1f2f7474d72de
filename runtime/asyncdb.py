"""psycopg's async connections for the hot async reads: no thread per query.

Django's async ORM runs every query in a worker thread (`sync_to_async`), and under ASGI each
request gets a thread and a pooled connection of its own: on the benchmark's endpoint that is
most of a request's CPU (docs/benchmarks.md). The fast path (`api/plain/fast.py`) instead runs
its SQL on psycopg's `AsyncConnectionPool`, on the event loop, as the FastAPI reference does.

The pool connects to Django's default database with Django's own connection parameters, and
sizes itself like Django's pool (`DB_POOL_*`): a process holds both. A pool belongs to the event
loop that opened it; a server has one loop per process.

`ASYNC_DB = "django"` (the test settings) runs the same statements on Django's own connection
instead, through `sync_to_async`: a test's rows live in a transaction that only that connection
sees, and Django's sync test client runs each request on an event loop of its own. The live
server tests (and `manage.py bench --quick`) run the psycopg pool.

Only PostgreSQL has an async driver here; `available()` says whether the default database is it.
Connection failures surface as psycopg's `OperationalError` (`PoolTimeout` after
`DB_POOL_TIMEOUT`), which `runtime.unavailable` answers with a 503.
"""

import asyncio
import weakref
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

_pools: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, asyncio.Task[AsyncConnectionPool[AsyncConnection[Any]]]
] = weakref.WeakKeyDictionary()

# Django's sync-only connection options, which an async connection cannot take.
_SYNC_ONLY = ("cursor_factory", "context")


def available() -> bool:
    """Whether the default database is PostgreSQL, which the async path needs.

    Read from the settings: touching `django.db.connection` from async code would make the
    connection object of the calling thread (or context) for nothing.
    """
    return bool(settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql")


def connection_kwargs() -> dict[str, Any]:
    """Django's connection parameters for the default database, for an async connection."""
    params = connection.get_connection_params()
    for key in _SYNC_ONLY:
        params.pop(key, None)
    params["autocommit"] = True
    # Django turns psycopg's prepared statements off for the sake of external poolers such as
    # PgBouncer; this pool is ours, so its few statements are prepared (psycopg's default,
    # after 5 runs) unless OPTIONS say otherwise.
    params["prepare_threshold"] = connection.settings_dict["OPTIONS"].get("prepare_threshold", 5)
    return params


def _pool_options() -> dict[str, Any]:
    options = dict(connection.settings_dict["OPTIONS"].get("pool") or {})
    return {
        "min_size": options.get("min_size", 1),
        "max_size": options.get("max_size", 10),
        "timeout": options.get("timeout", 5.0),
        # After an outage, how long the pool keeps trying to reconnect (config.settings).
        "reconnect_timeout": options.get("reconnect_timeout", 300.0),
    }


async def _open_pool() -> AsyncConnectionPool[AsyncConnection[Any]]:
    pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
        kwargs=connection_kwargs(), open=False, **_pool_options()
    )
    await pool.open()
    return pool


async def apool() -> AsyncConnectionPool[AsyncConnection[Any]]:
    """This event loop's pool, opened by its first caller (concurrent callers wait for it)."""
    loop = asyncio.get_running_loop()
    opening = _pools.get(loop)
    if opening is None:
        opening = _pools[loop] = loop.create_task(_open_pool())
    try:
        return await asyncio.shield(opening)
    except BaseException:
        if opening.done() and _pools.get(loop) is opening:
            del _pools[loop]  # a failed open is retried by the next request
        raise


async def aclose_pools() -> None:
    """Close this event loop's pool (at shutdown, and between tests)."""
    opening = _pools.pop(asyncio.get_running_loop(), None)
    if opening is not None:
        await (await opening).close()


class _Rows:
    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self._rows = rows

    async def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None

    async def fetchall(self) -> list[tuple[Any, ...]]:
        return self._rows


class DjangoConnection:
    """`execute()` as psycopg's `AsyncConnection` has it, on Django's connection (tests)."""

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> _Rows:
        return _Rows(await sync_to_async(_fetchall)(sql, params))


def _fetchall(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# The connection an enclosing `aconnection()` holds in this context (task), if any.
_held: ContextVar[Any] = ContextVar("orderdesk_asyncdb_connection", default=None)


@asynccontextmanager
async def aconnection() -> AsyncIterator[Any]:
    """A connection to the default database in autocommit mode: `await conn.execute(...)`.

    Nested in another `aconnection()` of the same task, it is the outer one's connection: a
    view that wraps its token check and its read in one `aconnection()` checks out one
    connection per request, not two (the second checkout was 3 % of the fast path's profile).
    """
    held = _held.get()
    if held is not None:
        yield held
        return
    async with _checkout() as conn:
        token = _held.set(conn)
        try:
            yield conn
        finally:
            _held.reset(token)


@asynccontextmanager
async def _checkout() -> AsyncIterator[Any]:
    # Not PostgreSQL (the embedded SQLite default): no async driver, so no pool to open. The
    # reads check `available()` and take the async ORM; a scope around them holds nothing.
    if settings.ASYNC_DB == "django" or not available():
        yield DjangoConnection()
    else:
        async with (await apool()).connection() as conn:
            yield conn
