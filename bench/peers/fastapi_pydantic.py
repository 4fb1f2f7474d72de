"""The article's endpoint in FastAPI on raw SQL, as its users write it: rows into pydantic.

`fastapi_app`'s `async def` endpoint, SQL (`orders.sql`) and psycopg `AsyncConnectionPool`
(autocommit), but the rows go into the pydantic response models and FastAPI writes them
(`response_model=UserOrdersOut`: validated, then serialised on pydantic's Rust side), instead
of a dict handed to orjson. Errors are FastAPI's `HTTPException`s.

Run: `BENCH_DATABASE_URL=postgres://... uvicorn bench.peers.fastapi_pydantic:app`.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import FastAPI, Header, HTTPException, status
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
    visible,
)
from bench.peers.schemas import OrderLineOut, OrderOut, UserOrdersOut, UserOut

pool = AsyncConnectionPool(
    DATABASE_URL, min_size=1, max_size=POOL_SIZE, kwargs=PSYCOPG_KWARGS, open=False
)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    await pool.open()
    yield
    await pool.close()


app = FastAPI(lifespan=lifespan, openapi_url=None)


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, {"WWW-Authenticate": "Bearer"})


@app.get("/users/{user_id}/orders", response_model=UserOrdersOut)
async def user_orders(
    user_id: int, authorization: Annotated[str | None, Header()] = None
) -> UserOrdersOut:
    """The user and all their orders, newest first: yourself, or anyone for staff."""
    digest = bearer_digest(authorization)
    if digest is None:
        raise unauthorized(NOT_AUTHENTICATED["detail"])
    async with pool.connection() as conn:
        viewer = await (await conn.execute(VIEWER_SQL, (digest,))).fetchone()
        if viewer is None or not viewer[4]:
            raise unauthorized(INVALID_TOKEN["detail"])
        if not visible(viewer, user_id):
            raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND["detail"])
        # Staff looking at someone else need that user; everyone else sees themself.
        user = (
            viewer
            if viewer[0] == user_id
            else await (await conn.execute(USER_SQL, (user_id,))).fetchone()
        )
        if user is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND["detail"])
        orders = await (await conn.execute(ORDERS_SQL, (user_id,))).fetchall()
        lines = []
        if orders:
            lines = await (
                await conn.execute(LINES_SQL, ([order[0] for order in orders],))
            ).fetchall()
    by_order: dict[int, list[OrderLineOut]] = {order[0]: [] for order in orders}
    for order_id, product_id, sku, quantity, unit_price in lines:
        by_order[order_id].append(
            OrderLineOut(product_id=product_id, sku=sku, quantity=quantity, unit_price=unit_price)
        )
    return UserOrdersOut(
        user=UserOut(id=user[0], email=user[1], name=user[2], age=user[3]),
        orders=[
            OrderOut(
                id=order_id,
                customer_id=customer_id,
                status=order_status,
                total=total,
                created_at=created_at,
                updated_at=updated_at,
                lines=by_order[order_id],
            )
            for order_id, customer_id, order_status, total, created_at, updated_at in orders
        ],
    )
