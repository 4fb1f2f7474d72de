"""The article's endpoint in FastAPI: `async def`, psycopg's `AsyncConnectionPool`, orjson.

The pool's connections run in autocommit: the three reads need no transaction.

Run: `BENCH_DATABASE_URL=postgres://... uvicorn bench.peers.fastapi_app:app`.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import orjson
from fastapi import FastAPI, Header
from fastapi.responses import Response
from psycopg_pool import AsyncConnectionPool

from bench.peers import (
    DATABASE_URL,
    INVALID_TOKEN,
    LINES_SQL,
    NOT_AUTHENTICATED,
    NOT_FOUND,
    ORDERS_SQL,
    POOL_SIZE,
    PSYCOPG_KWARGS,
    USER_SQL,
    VIEWER_SQL,
    bearer_digest,
    user_orders_json,
    visible,
)

pool = AsyncConnectionPool(
    DATABASE_URL, min_size=1, max_size=POOL_SIZE, kwargs=PSYCOPG_KWARGS, open=False
)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    await pool.open()
    yield
    await pool.close()


app = FastAPI(lifespan=lifespan, openapi_url=None)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status, headers, media_type="application/json")


@app.get("/users/{user_id}/orders")
async def user_orders(
    user_id: int, authorization: Annotated[str | None, Header()] = None
) -> Response:
    digest = bearer_digest(authorization)
    if digest is None:
        return json_response(NOT_AUTHENTICATED, 401, {"WWW-Authenticate": "Bearer"})
    async with pool.connection() as conn:
        viewer = await (await conn.execute(VIEWER_SQL, (digest,))).fetchone()
        if viewer is None or not viewer[4]:
            return json_response(INVALID_TOKEN, 401, {"WWW-Authenticate": "Bearer"})
        if not visible(viewer, user_id):
            return json_response(NOT_FOUND, 404)
        # Staff looking at someone else need that user; everyone else sees themself.
        user = (
            viewer
            if viewer[0] == user_id
            else await (await conn.execute(USER_SQL, (user_id,))).fetchone()
        )
        if user is None:
            return json_response(NOT_FOUND, 404)
        orders = await (await conn.execute(ORDERS_SQL, (user_id,))).fetchall()
        lines = []
        if orders:
            ids = [order[0] for order in orders]
            lines = await (await conn.execute(LINES_SQL, (ids,))).fetchall()
    return json_response(user_orders_json(user, orders, lines))
