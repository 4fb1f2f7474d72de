"""The article's endpoint as FastAPI's full-stack template writes it: sync `def`, sync ORM.

`fastapi_sqla`'s endpoint with a plain `def` path operation and sync dependencies on a
SQLAlchemy `Session` (`create_engine`, psycopg): FastAPI runs each of them in its threadpool,
so the event loop never blocks on the database. Same ORM loading, same token lookup, same
`response_model=UserOrdersOut` with `from_attributes`.

Run: `BENCH_DATABASE_URL=postgres://... uvicorn bench.peers.fastapi_sqla_sync:app`.
"""

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session, selectinload

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

engine = create_engine(
    sqlalchemy_url(),
    pool_size=POOL_SIZE,
    max_overflow=0,
    connect_args={"options": CONNECT_OPTIONS},
)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    engine.dispose()


app = FastAPI(lifespan=lifespan, openapi_url=None)


def get_db() -> Iterator[Session]:
    """One session per request, closed (its connection back to the pool) afterwards."""
    with Session(engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_db)]
bearer = HTTPBearer(auto_error=False)


def get_current_user(
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
    user = session.scalar(
        select(User).join(User.tokens).where(Token.digest == key_digest(credentials.credentials))
    )
    if user is None or not user.is_active:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            INVALID_TOKEN["detail"],
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


@app.get("/users/{user_id}/orders", response_model=UserOrdersOut)
def user_orders(user_id: int, session: SessionDep, viewer: CurrentUser) -> Any:
    """The user and all their orders, newest first: yourself, or anyone for staff."""
    if viewer.id != user_id and not viewer.is_staff:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND["detail"])
    user = viewer if viewer.id == user_id else session.get(User, user_id)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND["detail"])
    orders = session.scalars(
        select(Order)
        .where(Order.customer_id == user_id)
        .order_by(Order.created_at.desc(), Order.id.desc())
        .options(selectinload(Order.lines).joinedload(OrderLine.product))
    ).all()
    return {"user": user, "orders": orders}
