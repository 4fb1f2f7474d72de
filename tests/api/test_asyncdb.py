"""runtime.asyncdb: one pooled connection per `aconnection()` scope, shared by nested scopes."""

import asyncio
from typing import Any

from runtime import asyncdb
from tests.servers import LIVE_POSTGRES

pytestmark = LIVE_POSTGRES


async def backend_pid(conn: Any) -> int:
    row = await (await conn.execute("SELECT pg_backend_pid()")).fetchone()
    return int(row[0])


def run_on_the_pool(coroutine: Any) -> Any:
    async def main() -> Any:
        try:
            return await coroutine()
        finally:
            await asyncdb.aclose_pools()

    return asyncio.run(main())


def test_a_nested_scope_reuses_the_outer_connection(settings) -> None:
    settings.ASYNC_DB = "psycopg"

    async def scenario() -> tuple[int, int, int, int]:
        async with asyncdb.aconnection() as outer:
            async with asyncdb.aconnection() as inner:
                assert inner is outer
                nested = await backend_pid(inner)
            outer_pid = await backend_pid(outer)
            checkouts = (await asyncdb.apool()).get_stats()["requests_num"]
        return nested, outer_pid, checkouts, (await asyncdb.apool()).get_stats()["requests_num"]

    nested, outer_pid, checkouts, after = run_on_the_pool(scenario)
    assert nested == outer_pid
    assert checkouts == after == 1


def test_scopes_side_by_side_get_connections_of_their_own(settings) -> None:
    settings.ASYNC_DB = "psycopg"
    both_in = asyncio.Barrier(2)

    async def scope() -> int:
        async with asyncdb.aconnection() as conn:
            await both_in.wait()  # both hold a connection at once
            return await backend_pid(conn)

    async def scenario() -> list[int]:
        return list(await asyncio.gather(scope(), scope()))

    first, second = run_on_the_pool(scenario)
    assert first != second


def test_after_a_scope_ends_a_new_one_checks_out_again(settings) -> None:
    settings.ASYNC_DB = "psycopg"

    async def scenario() -> int:
        for _ in range(2):
            async with asyncdb.aconnection() as conn:
                await backend_pid(conn)
        return int((await asyncdb.apool()).get_stats()["requests_num"])

    assert run_on_the_pool(scenario) == 2
