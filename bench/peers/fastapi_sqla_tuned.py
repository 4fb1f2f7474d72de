"""The article's endpoint in FastAPI, tuned: SQLAlchemy builds the SQL, pydantic writes the JSON.

As fast as FastAPI goes while keeping both: the statements are SQLAlchemy `select()`s of the
columns the contract needs (no entity instances, no identity map, no lazy loading), built
once at import with bound parameters (SQLAlchemy compiles each once and caches it), run on an
`AsyncConnection` of the async engine in autocommit; the rows are grouped in Python and
`TypeAdapter(UserOrdersOut)` validates and dumps them in one pass on pydantic's Rust side
(cheaper than `response_model`'s validate-then-serialise through FastAPI, measured in-process).
Errors and auth are `fastapi_sqla`'s.

Run: `BENCH_DATABASE_URL=postgres://... uvicorn bench.peers.fastapi_sqla_tuned:app`.
"""

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import TypeAdapter
from sqlalchemy import BigInteger, Row, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from bench.peers import (
    CONNECT_OPTIONS,
    INVALID_TOKEN,
    NOT_AUTHENTICATED,
    NOT_FOUND,
    POOL_SIZE,
    key_digest,
    sqlalchemy_url,
)
from bench.peers.models import Order, OrderLine, Product, Token, User
from bench.peers.schemas import UserOrdersOut

engine = create_async_engine(
    sqlalchemy_url(),
    pool_size=POOL_SIZE,
    max_overflow=0,
    isolation_level="AUTOCOMMIT",
    connect_args={"options": CONNECT_OPTIONS},
)

USER_COLUMNS = (User.id, User.email, User.name, User.age, User.is_active, User.is_staff)
VIEWER = (
    select(*USER_COLUMNS)
    .join(Token, Token.user_id == User.id)
    .where(Token.digest == bindparam("digest"))
    .limit(1)
)
USER = select(*USER_COLUMNS).where(User.id == bindparam("user_id"))
ORDERS = (
    select(
        Order.id, Order.customer_id, Order.status, Order.total, Order.created_at, Order.updated_at
    )
    .where(Order.customer_id == bindparam("user_id"))
    .order_by(Order.created_at.desc(), Order.id.desc())
)
# One array parameter (`= ANY(%s)`), not an IN list that renders as many as there are orders.
LINES = (
    select(
        OrderLine.order_id,
        OrderLine.product_id,
        Product.sku,
        OrderLine.quantity,
        OrderLine.unit_price,
    )
    .join(Product, Product.id == OrderLine.product_id)
    .where(OrderLine.order_id == any_(bindparam("order_ids", type_=ARRAY(BigInteger))))
    .order_by(OrderLine.id)
)
document = TypeAdapter(UserOrdersOut)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    await engine.dispose()


app = FastAPI(lifespan=lifespan, openapi_url=None)


async def get_connection() -> AsyncIterator[AsyncConnection]:
    """One pooled connection per request, for the token and the read."""
    async with engine.connect() as conn:
        yield conn


ConnectionDep = Annotated[AsyncConnection, Depends(get_connection)]
bearer = HTTPBearer(auto_error=False)


async def current_user(
    conn: ConnectionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Row[Any]:
    """The active user of the bearer token as a row (id, email, name, age, active, staff)."""
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            NOT_AUTHENTICATED["detail"],
            headers={"WWW-Authenticate": "Bearer"},
        )
    viewer = (await conn.execute(VIEWER, {"digest": key_digest(credentials.credentials)})).first()
    if viewer is None or not viewer.is_active:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            INVALID_TOKEN["detail"],
            headers={"WWW-Authenticate": "Bearer"},
        )
    return viewer


def render(user: Row[Any], orders: Sequence[Row[Any]], lines: Sequence[Row[Any]]) -> bytes:
    """The contract's document from the rows, validated and dumped by pydantic in one pass."""
    by_order: dict[int, list[dict[str, Any]]] = {order[0]: [] for order in orders}
    for order_id, product_id, sku, quantity, unit_price in lines:
        by_order[order_id].append(
            {"product_id": product_id, "sku": sku, "quantity": quantity, "unit_price": unit_price}
        )
    body = {
        "user": {"id": user[0], "email": user[1], "name": user[2], "age": user[3]},
        "orders": [
            {
                "id": order_id,
                "customer_id": customer_id,
                "status": order_status,
                "total": total,
                "created_at": created_at,
                "updated_at": updated_at,
                "lines": by_order[order_id],
            }
            for order_id, customer_id, order_status, total, created_at, updated_at in orders
        ],
    }
    return document.dump_json(document.validate_python(body))


@app.get("/users/{user_id}/orders", response_model=UserOrdersOut)
async def user_orders(
    user_id: int, conn: ConnectionDep, viewer: Annotated[Row[Any], Depends(current_user)]
) -> Response:
    """The user and all their orders, newest first: yourself, or anyone for staff."""
    if viewer.id != user_id and not viewer.is_staff:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND["detail"])
    user = (
        viewer if viewer.id == user_id else (await conn.execute(USER, {"user_id": user_id})).first()
    )
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND["detail"])
    orders = (await conn.execute(ORDERS, {"user_id": user_id})).all()
    lines = (
        (await conn.execute(LINES, {"order_ids": [o[0] for o in orders]})).all() if orders else []
    )
    return Response(render(user, orders, lines), media_type="application/json")
