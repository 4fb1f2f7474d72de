"""Querysets compiled once: the ORM writes the SQL, each request only runs it.

Django compiles a queryset to SQL every time it is evaluated: resolving the lookups, the joins
and the ordering again for every request, which was about a third of the tuned tier's CPU on
the article's endpoint (docs/benchmarks.md). `PreparedValues` builds its queryset once, with a
placeholder for each argument, keeps the SQL and where each placeholder lands among the
parameters, and then only runs that SQL with the real arguments: on Django's cursor in sync
code, on psycopg's async pool (`runtime.asyncdb`) in async code, so no query hops to a thread.
The rows come back as the queryset's `.values()` dicts.

Only on PostgreSQL, where these columns need none of Django's converters (psycopg returns
the `int`, `str`, `Decimal` and aware `datetime` the ORM would); elsewhere the queryset is
evaluated as usual. A queryset whose parameters are not all placeholders (a constant in a
filter, say) is refused when it is prepared.

Upgrade note: this reads `QuerySet.query.sql_with_params()`, which Django does not document,
and assumes the rows need no converters. tests/api/test_prepared.py compares every prepared
query with its own queryset's results and checks the converters: on a Django upgrade, re-read
`django/db/models/sql/query.py` (`sql_with_params`) and `sql/compiler.py` (`get_converters`).
"""

from collections.abc import Callable, Sequence
from typing import Any

from asgiref.sync import sync_to_async
from django.db import connection
from django.db.models import QuerySet

from runtime import asyncdb

# Placeholder arguments: integers no id takes, told apart by value among the parameters.
_PLACEHOLDER = -7_345_000_000_000_000_000


class PreparedValues:
    """A `.values()` queryset compiled once, run again with new arguments (integers).

    `build(**arguments)` returns the queryset; `keys` are its `.values()` names, in the order
    the rows should have them.
    """

    def __init__(
        self,
        build: Callable[..., QuerySet[Any, Any]],
        keys: Sequence[str],
        arguments: Sequence[str],
    ) -> None:
        self.build = build
        self.keys = tuple(keys)
        self.arguments = tuple(arguments)
        self._compiled: tuple[str, tuple[str, ...]] | None = None

    def queryset(self, **arguments: int) -> QuerySet[Any, Any]:
        """The queryset itself, as `values_list` in `keys` order."""
        return self.build(**arguments).values_list(*self.keys)

    def compiled(self) -> tuple[str, tuple[str, ...]]:
        """The SQL, and which argument each of its parameters is."""
        if self._compiled is None:
            placeholders = {name: _PLACEHOLDER - i for i, name in enumerate(self.arguments)}
            names = {value: name for name, value in placeholders.items()}
            sql, params = self.queryset(**placeholders).query.sql_with_params()
            unknown = [param for param in params if param not in names]
            if unknown:
                raise ValueError(f"Parameters that are not placeholders: {unknown!r}")
            self._compiled = sql, tuple(names[param] for param in params)
        return self._compiled

    def _params(self, arguments: dict[str, int]) -> list[int]:
        sql_arguments = self.compiled()[1]
        return [int(arguments[name]) for name in sql_arguments]

    def rows(self, **arguments: int) -> list[dict[str, Any]]:
        """The queryset's rows for these arguments, as dicts."""
        if connection.vendor != "postgresql":
            return [dict(zip(self.keys, row, strict=True)) for row in self.queryset(**arguments)]
        with connection.cursor() as cursor:
            cursor.execute(self.compiled()[0], self._params(arguments))
            return [dict(zip(self.keys, row, strict=True)) for row in cursor.fetchall()]

    async def arows(self, **arguments: int) -> list[dict[str, Any]]:
        """`rows()` for async code: on psycopg's async pool where there is one, no thread hop."""
        if not asyncdb.available():
            return await sync_to_async(self.rows)(**arguments)
        # Compiling opens no connection (a test checks), so it may run on the event loop.
        sql, _ = self.compiled()
        async with asyncdb.aconnection() as conn:
            fetched = await (await conn.execute(sql, self._params(arguments))).fetchall()
        return [dict(zip(self.keys, row, strict=True)) for row in fetched]
