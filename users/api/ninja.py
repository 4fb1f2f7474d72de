"""The django-ninja style of the orderdesk contract: users and tokens (mounted at /api/ninja/).

`POST users/` and `POST auth/token` are open (`auth=None`) and throttled by their own rates;
the rest need the login `config.api` checks. See `orders.api.ninja` for the shared schemas.
"""

from typing import Annotated, Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import aauthenticate
from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema
from ninja.errors import AuthenticationError
from ninja.responses import Status
from ninja.throttling import SimpleRateThrottle
from pydantic import BeforeValidator, StringConstraints

from orders.api.ninja import (
    AUTH_ERRORS,
    BODY_ERRORS,
    DetailOut,
    NulFreeStr,
    OrderOut,
    ValidationErrorOut,
    current_user,
    integral_float_to_int,
)
from orders.selectors import orders_of_customer
from users.models import AGE_MAX, AGE_MIN, User
from users.selectors import auser_visible_to
from users.services import token_issue, user_create

router = Router(tags=["users"])

# --- Throttling ---------------------------------------------------------------------------------


class RateThrottle(SimpleRateThrottle):
    """ninja's SimpleRateThrottle with its rate read from settings.API_THROTTLE_RATES per request.

    ninja reads the rate once, when the throttle is made at import time; reading it per request
    lets the tests (and an operator) change it. Clients are told apart by user id once
    authenticated, else by address. The throttle runs synchronously inside the async operation
    (ninja 1.7 has no async throttles): fine for the in-memory cache, a blocking call with a
    network cache. Like DRF's, it keeps the request's history on `self` between `allow_request`
    and `wait`; ninja awaits nothing in between, so requests on one event loop (ASGI) do not
    mix, while threads serving async views under WSGI could.
    """

    def __init__(self, scope: str) -> None:
        self.scope = scope
        super().__init__()

    def get_rate(self) -> str | None:
        rate: str | None = settings.API_THROTTLE_RATES.get(self.scope or "")
        return rate

    def get_cache_key(self, request: HttpRequest) -> str | None:
        user = getattr(request, "auth", None)
        ident = f"user-{user.pk}" if isinstance(user, User) else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request: HttpRequest) -> bool:
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request)

    def wait(self) -> float | None:
        # Until the oldest request in the window expires; ninja turns it into Retry-After.
        if not self.history or self.duration is None:
            return self.duration
        return max(self.duration - (self.now - self.history[-1]), 1.0)


# --- Schemas ------------------------------------------------------------------------------------


# Django's EmailField validates the address (one rule for every style); the format is for the docs.
Email = Annotated[
    NulFreeStr, StringConstraints(max_length=254), Field(json_schema_extra={"format": "email"})
]


class UserIn(Schema):
    email: Email
    name: Annotated[NulFreeStr, StringConstraints(max_length=150)]
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


class TokenOut(Schema):
    token: str


# --- Operations ---------------------------------------------------------------------------------

OPEN_ERRORS: dict[int, Any] = {**BODY_ERRORS, 422: ValidationErrorOut, 429: DetailOut}


@router.post(
    "/users/",
    auth=None,
    throttle=[RateThrottle("anon"), RateThrottle("signup")],
    response={201: UserOut, **OPEN_ERRORS},
)
async def user_signup(request: HttpRequest, payload: UserIn) -> Status[User]:
    """Open sign-up. Django's validators decide the rest (email taken, weak password)."""
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
    """A user and all their orders, newest first: three queries however many orders."""
    user = await auser_visible_to(viewer=current_user(request), user_id=user_id)
    if user is None:
        raise Http404(f"User {user_id} not found.")
    orders = [order async for order in orders_of_customer(customer_id=user.pk)]
    return {"user": user, "orders": orders}


@router.post(
    "/auth/token",
    auth=None,
    throttle=[RateThrottle("anon"), RateThrottle("token")],
    response={200: TokenOut, 401: DetailOut, **OPEN_ERRORS},
)
async def token_create(request: HttpRequest, payload: TokenIn) -> dict[str, str]:
    """Exchange an email and password for an API token (`Authorization: Bearer <token>`)."""
    # Emails are stored lower-case; Django's backend looks them up exactly.
    user = await aauthenticate(request, email=payload.email.lower(), password=payload.password)
    if not isinstance(user, User):
        raise AuthenticationError(message="Invalid email or password.")
    return {"token": await sync_to_async(token_issue)(user=user)}
