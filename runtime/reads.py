"""Reads written once, run in sync or async code.

A read is a generator: it decides what to fetch, yields each fetch as a step, and gets the
step's result back; its return value is the read's answer. `run` performs the steps in sync
code (Django's connection, the ORM). `arun` performs them in async code: where the database
has an async driver (`runtime.asyncdb`), on the event loop, the first step that needs the pool
checking out one connection that the read's later steps share; elsewhere (SQLite), the whole
read in one worker thread. So a selector and its async twin share their rule and their
queries, and differ only in the verb that runs them:

    def user_get(*, pk):         return reads.run(_user(pk))
    async def auser_get(*, pk):  return await reads.arun(_user, pk)
"""

from collections.abc import Callable, Generator, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any, Protocol

from asgiref.sync import sync_to_async
from django.db import connection
from django.db.models import QuerySet

from runtime import asyncdb
from runtime.prepared import PreparedValues


class Step(Protocol):
    pooled: bool  # runs on `runtime.asyncdb`'s pool in async code

    def run(self) -> Any: ...
    async def arun(self) -> Any: ...


type Read[T] = Generator[Step, Any, T]


@dataclass(frozen=True, slots=True)
class First:
    """The queryset's first row or instance (`QuerySet.first`), or None."""

    queryset: QuerySet[Any, Any]
    pooled = False  # the async ORM

    def run(self) -> Any:
        return self.queryset.first()

    async def arun(self) -> Any:
        return await self.queryset.afirst()


@dataclass(frozen=True, slots=True)
class All:
    """All of the queryset's rows or instances, as a list."""

    queryset: QuerySet[Any, Any]
    pooled = False  # the async ORM

    def run(self) -> Any:
        return list(self.queryset)

    async def arun(self) -> Any:
        return [row async for row in self.queryset]


@dataclass(frozen=True, slots=True)
class Sql:
    """One statement's rows as tuples (`one`: the first row, or None). PostgreSQL only."""

    sql: str
    params: Sequence[Any]
    one: bool = False
    pooled = True

    def run(self) -> Any:
        with connection.cursor() as cursor:
            cursor.execute(self.sql, self.params)
            return cursor.fetchone() if self.one else cursor.fetchall()

    async def arun(self) -> Any:
        async with asyncdb.aconnection() as conn:
            result = await conn.execute(self.sql, self.params)
            return await (result.fetchone() if self.one else result.fetchall())


@dataclass(frozen=True, slots=True)
class Rows:
    """A prepared `.values()` queryset's rows as dicts (`runtime.prepared`)."""

    prepared: PreparedValues
    arguments: dict[str, int]
    pooled = True

    def run(self) -> Any:
        return self.prepared.rows(**self.arguments)

    async def arun(self) -> Any:
        return await self.prepared.arows(**self.arguments)


def run[T](read: Read[T]) -> T:
    """Perform the read's steps in sync code; its answer."""
    answer: Any = None
    try:
        while True:
            answer = read.send(answer).run()
    except StopIteration as done:
        return done.value


async def arun[T](make: Callable[..., Read[T]], *args: Any, **kwargs: Any) -> T:
    """`run` for async code: `make(*args, **kwargs)`'s steps on the event loop where it can."""
    if not asyncdb.available():  # no async driver: one thread for the whole read
        return await sync_to_async(lambda: run(make(*args, **kwargs)))()
    read = make(*args, **kwargs)
    answer: Any = None
    async with AsyncExitStack() as scope:
        holding = False
        try:
            while True:
                step = read.send(answer)
                if step.pooled and not holding:  # one connection for this and later steps
                    await scope.enter_async_context(asyncdb.aconnection())
                    holding = True
                answer = await step.arun()
        except StopIteration as done:
            return done.value
