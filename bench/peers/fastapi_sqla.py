"""The article's endpoint in FastAPI's full-stack idiom: async SQLAlchemy 2 ORM, pydantic out.

An `async def` path operation with a session dependency (`AsyncSession` from an
`async_sessionmaker` on `create_async_engine`, psycopg), the bearer token looked up through the
ORM by a security dependency (`HTTPBearer`), the orders loaded as model instances with
`selectinload` of their lines (each line's product joined in, as Django's `select_related`
would), and `response_model=UserOrdersOut` validating those objects with `from_attributes`
and writing the JSON. What the FastAPI docs and tutorials teach, with nothing tuned.

Run: `BENCH_DATABASE_URL=postgres://... uvicorn bench.peers.fastapi_sqla:app`.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import selectinload

from bench.peers import (
    CONNECT_OPTIONS,
    INVALID_TOKEN,
    NOT_AUTHENTICATED,
    NOT_FOUND,
    POOL_SIZE,
    key_digest,
    sqlalchemy_url,
)
from bench.peers.models import Order, OrderLine, Token, User
from bench.peers.schemas import UserOrdersOut

engine = create_async_engine(
    sqlalchemy_url(),
    pool_size=POOL_SIZE,
    max_overflow=0,
    connect_args={"options": CONNECT_OPTIONS},
)
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    await engine.dispose()


app = FastAPI(lifespan=lifespan, openapi_url=None)


async def get_session() -> AsyncIterator[AsyncSession]:
    """One session per request, closed (its connection back to the pool) afterwards."""
    async with SessionLocal() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
bearer = HTTPBearer(auto_error=False)


async def current_user(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User:
    """The active user of the bearer token, or 401."""
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            NOT_AUTHENTICATED["detail"],
            headers={"WWW-Authenticate": "Bearer"},
        )
    user = await session.scalar(
        select(User).join(User.tokens).where(Token.digest == key_digest(credentials.credentials))
    )
    if user is None or not user.is_active:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            INVALID_TOKEN["detail"],
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


CurrentUser = Annotated[User, Depends(current_user)]


@app.get("/users/{user_id}/orders", response_model=UserOrdersOut)
async def user_orders(user_id: int, session: SessionDep, viewer: CurrentUser) -> Any:
    """The user and all their orders, newest first: yourself, or anyone for staff."""
    if viewer.id != user_id and not viewer.is_staff:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND["detail"])
    user = viewer if viewer.id == user_id else await session.get(User, user_id)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND["detail"])
    orders = await session.scalars(
        select(Order)
        .where(Order.customer_id == user_id)
        .order_by(Order.created_at.desc(), Order.id.desc())
        .options(selectinload(Order.lines).joinedload(OrderLine.product))
    )
    return {"user": user, "orders": orders.all()}
