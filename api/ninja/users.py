"""The django-ninja style of the orderdesk contract: users and tokens (mounted at /api/ninja/).

`POST users/` and `POST auth/token` are open (`auth=None`) and throttled by their own rates;
the rest need the login `api.ninja.api` checks. See `api.ninja.schemas` for the shared types.
"""

from typing import Annotated, Any, cast

import orjson
from asgiref.sync import sync_to_async
from django.contrib.auth import aauthenticate
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, Router, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.responses import Status
from pydantic import BeforeValidator, StringConstraints

from api.credentials import CSRF_FAILED, aforged_session_post, bearer_key
from api.ninja.auth import BearerAuth
from api.ninja.orders import OrderLineOut, OrderOut
from api.ninja.schemas import (
    AUTH_ERRORS,
    BODY_ERRORS,
    DetailOut,
    NulFreeStr,
    ValidationErrorOut,
    current_user,
    integral_float_to_int,
)
from api.ninja.throttles import RateThrottle
from orders.models import OrderStatus
from orders.selectors import auser_orders_document, auser_orders_values, orders_of_customer
from users.models import (
    AGE_MAX,
    AGE_MIN,
    CLIENT_NAME_MAX_LENGTH,
    DEFAULT_CLIENT_NAME,
    EMAIL_MAX_LENGTH,
    NAME_MAX_LENGTH,
    User,
)
from users.selectors import auser_visible_to
from users.services import token_issue, token_revoke, user_create

router = Router(tags=["users"])

# --- Schemas ------------------------------------------------------------------------------------


# Django's EmailField validates the address (one rule for every style); the format is for the docs.
Email = Annotated[
    NulFreeStr,
    StringConstraints(max_length=EMAIL_MAX_LENGTH),
    Field(json_schema_extra={"format": "email"}),
]


class UserIn(Schema):
    email: Email
    name: Annotated[NulFreeStr, StringConstraints(max_length=NAME_MAX_LENGTH)]
    age: Annotated[
        int, Field(strict=True, ge=AGE_MIN, le=AGE_MAX), BeforeValidator(integral_float_to_int)
    ]
    # Django's password validators decide; 8 is their minimum length, stated for the docs.
    password: Annotated[NulFreeStr, StringConstraints(min_length=8)]


class UserOut(Schema):
    id: int
    email: str
    name: str
    age: int | None


class UserOrdersOut(Schema):
    user: UserOut
    orders: list[OrderOut]


class TokenIn(Schema):
    email: Email
    password: NulFreeStr
    client: Annotated[
        NulFreeStr,
        StringConstraints(min_length=1, max_length=CLIENT_NAME_MAX_LENGTH),
        Field(description="The client's name: issuing again for the same name replaces its token."),
    ] = DEFAULT_CLIENT_NAME


class TokenOut(Schema):
    token: str


# --- Operations ---------------------------------------------------------------------------------

OPEN_ERRORS: dict[int, Any] = {**BODY_ERRORS, 422: ValidationErrorOut, 429: DetailOut}


@router.post(
    "/users/",
    auth=None,
    throttle=[RateThrottle(), RateThrottle("signup")],
    response={201: UserOut, 403: DetailOut, **OPEN_ERRORS},
)
async def user_signup(request: HttpRequest, payload: UserIn) -> Status[User]:
    """Open sign-up. Django's validators decide the rest (email taken, weak password)."""
    # `auth=None`: no auth class runs, so none checks CSRF. A logged-in browser's post needs
    # the token all the same, as DRF and the plain views say.
    if await aforged_session_post(request):
        raise HttpError(403, CSRF_FAILED)
    user = await sync_to_async(user_create)(
        email=payload.email, name=payload.name, age=payload.age, password=payload.password
    )
    return Status(201, user)


@router.get("/users/{user_id}", response={200: UserOut, **AUTH_ERRORS, 404: DetailOut})
async def user_detail(request: HttpRequest, user_id: int) -> User:
    """Oneself, or anyone for staff; everyone else is 404."""
    user = await auser_visible_to(viewer=current_user(request), user_id=user_id)
    if user is None:
        raise Http404(f"User {user_id} not found.")
    return user


@router.get("/users/{user_id}/orders", response={200: UserOrdersOut, **AUTH_ERRORS, 404: DetailOut})
async def user_orders(request: HttpRequest, user_id: int) -> dict[str, Any]:
    """A user and all their orders, newest first: two queries however many orders.

    As ninja's docs teach it: the async ORM's querysets, and `UserOrdersOut` validating the
    model instances (`from_attributes`) and rendering the answer.
    """
    user = await auser_visible_to(viewer=current_user(request), user_id=user_id)
    if user is None:
        raise Http404(f"User {user_id} not found.")
    orders = [order async for order in orders_of_customer(customer_id=user.pk)]
    return {"user": user, "orders": orders}


# --- The article's endpoint, tuned and raw (docs/benchmarks.md) --------------------------------


@router.get(
    "/tuned/users/{user_id}/orders",
    response={200: UserOrdersOut, **AUTH_ERRORS, 404: DetailOut},
    summary="User Orders (tuned tier)",
)
async def user_orders_tuned(request: HttpRequest, user_id: int) -> HttpResponse:
    """`users/{id}/orders` in the tuned tier: `.values()` querysets, `UserOrdersOut` kept.

    The querysets return dicts (no model instances); `UserOrdersOut` writes the JSON itself
    (pydantic's `model_dump_json`), not through ninja's Python-side renderer.
    """
    document = await auser_orders_values(viewer=current_user(request), user_id=user_id)
    if document is None:
        raise Http404(f"User {user_id} not found.")
    body = user_orders_out(document).model_dump_json()
    return HttpResponse(body, content_type="application/json")


def user_orders_out(document: dict[str, Any]) -> UserOrdersOut:
    """`UserOrdersOut` from the tuned selector's rows, built without validating them again.

    The rows are the database's own typed values, read by querysets whose columns the schema
    mirrors, so they are trusted input: pydantic's `model_construct` skips validation, which
    for ninja schemas wraps every object in a `DjangoGetter` (15 % of the tuned profile).
    The contract suite and schemathesis check the answers against the schema.
    """
    orders = [
        OrderOut.model_construct(
            **{
                **order,
                "status": OrderStatus(order["status"]),
                "lines": [OrderLineOut.model_construct(**line) for line in order["lines"]],
            }
        )
        for order in document["orders"]
    ]
    return UserOrdersOut.model_construct(
        user=UserOut.model_construct(**document["user"]), orders=orders
    )


@router.get(
    "/raw/users/{user_id}/orders",
    response={200: UserOrdersOut, **AUTH_ERRORS, 404: DetailOut},
    summary="User Orders (raw tier)",
)
async def user_orders_raw(request: HttpRequest, user_id: int) -> HttpResponse:
    """`users/{id}/orders` in the raw tier: SQL rows rendered by hand, orjson.

    No ORM (the selector reads rows on psycopg's async driver and renders the contract's
    document) and no schema: `UserOrdersOut` only documents it.
    """
    document = await auser_orders_document(viewer=current_user(request), user_id=user_id)
    if document is None:
        raise Http404(f"User {user_id} not found.")
    return HttpResponse(orjson.dumps(document), content_type="application/json")


@router.post(
    "/auth/token",
    auth=None,
    throttle=[RateThrottle(), RateThrottle("token")],
    response={200: TokenOut, 401: DetailOut, 403: DetailOut, **OPEN_ERRORS},
)
async def token_create(request: HttpRequest, payload: TokenIn) -> dict[str, str]:
    """Exchange an email and password for an API token (`Authorization: Bearer <token>`).

    One token per client name: issuing again for the same `client` replaces its token.
    """
    # `auth=None`, as for sign-up: a logged-in browser's post needs its CSRF token.
    if await aforged_session_post(request):
        raise HttpError(403, CSRF_FAILED)
    # Emails are stored lower-case; Django's backend looks them up exactly.
    user = await aauthenticate(request, email=payload.email.lower(), password=payload.password)
    if not isinstance(user, User):
        raise AuthenticationError(message="Invalid email or password.")
    return {"token": await sync_to_async(token_issue)(user=user, client=payload.client)}


@router.delete(
    "/auth/token",
    auth=[BearerAuth()],  # only a token can revoke itself: a session's DELETE is a 401
    response={204: None, 401: DetailOut, 429: DetailOut},
)
async def token_delete(request: HttpRequest) -> Status[None]:
    """Revoke the token that authenticates this request: its key stops working."""
    await sync_to_async(token_revoke)(key=cast(str, bearer_key(request)))
    return Status(204, None)
