"""The article's endpoint in django-bolt: a typed async handler, the Django ORM, msgspec out.

django-bolt serves Django from a Rust (Actix) HTTP server and writes responses with msgspec.
Its idiom: an `async def` handler on a `BoltAPI`, typed parameters (the path's id, the
`Authorization` header), the Django ORM's async querysets (the token's user by
`select_related`, the orders with their lines and products prefetched, as orderdesk's own
ORM styles load them: `OrderQuerySet.with_lines()`), and a `msgspec.Struct` return type that
Bolt validates and encodes (money as `Decimal` strings, times in RFC 3339 with a `Z`).

Run: `python manage.py runbolt --settings bench.peers.bolt_settings` (`bench.servers`).
"""

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import msgspec

# django-bolt ships no type information (no py.typed).
from django_bolt import BoltAPI  # type: ignore[import-untyped]
from django_bolt.exceptions import HTTPException  # type: ignore[import-untyped]
from django_bolt.param_functions import Header  # type: ignore[import-untyped]

from bench.peers import INVALID_TOKEN, NOT_AUTHENTICATED, NOT_FOUND, bearer_digest
from orders.models import Order
from users.models import Token, User

api = BoltAPI(enable_logging=False)


class UserOut(msgspec.Struct):
    id: int
    email: str
    name: str
    age: int | None


class OrderLineOut(msgspec.Struct):
    product_id: int
    sku: str
    quantity: int
    unit_price: Decimal


class OrderOut(msgspec.Struct):
    id: int
    customer_id: int
    status: str
    total: Decimal
    created_at: datetime
    updated_at: datetime
    lines: list[OrderLineOut]


class UserOrdersOut(msgspec.Struct):
    user: UserOut
    orders: list[OrderOut]


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, {"WWW-Authenticate": "Bearer"})


async def authenticate(authorization: str | None) -> User:
    """The active user of the `Authorization: Bearer <key>` token, or 401."""
    digest = bearer_digest(authorization)
    if digest is None:
        raise unauthorized(NOT_AUTHENTICATED["detail"])
    token = await Token.objects.select_related("user").filter(digest=digest).afirst()
    if token is None or not token.user.is_active:
        raise unauthorized(INVALID_TOKEN["detail"])
    return token.user


@api.get("/users/{user_id}/orders")
async def user_orders(
    user_id: int, authorization: Annotated[str | None, Header()] = None
) -> UserOrdersOut:
    """The user and all their orders, newest first: yourself, or anyone for staff."""
    viewer = await authenticate(authorization)
    if viewer.pk != user_id and not viewer.is_staff:
        raise HTTPException(404, NOT_FOUND["detail"])
    user = viewer if viewer.pk == user_id else await User.objects.filter(pk=user_id).afirst()
    if user is None:
        raise HTTPException(404, NOT_FOUND["detail"])
    orders = Order.objects.filter(customer_id=user_id).newest_first().with_lines()
    return UserOrdersOut(
        user=UserOut(id=user.pk, email=user.email, name=user.name, age=user.age),
        orders=[
            OrderOut(
                id=order.pk,
                customer_id=order.customer_id,
                status=order.status,
                total=order.total,
                created_at=order.created_at,
                updated_at=order.updated_at,
                lines=[
                    OrderLineOut(
                        product_id=line.product_id,
                        sku=line.product.sku,
                        quantity=line.quantity,
                        unit_price=line.unit_price,
                    )
                    for line in order.lines.all()
                ],
            )
            async for order in orders
        ],
    )
