"""The django-ninja style of the orderdesk contract: products and orders (mounted at /api/ninja/).

`async def` operations with Pydantic schemas. Reads go through the selectors on the async ORM,
writes through the sync services in `sync_to_async` (transactions do not run in async mode).
Errors are raised, never returned: `config.api` maps them to responses in one place.

This module also holds the building blocks the users router shares (error schemas, the
NUL-free string, money and time output types): `users.api.ninja` imports from here, because
its `GET users/{id}/orders` renders `OrderOut`; defining them in `config.api` would make the
routers and the API object import each other.
"""

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, cast
from urllib.parse import urlencode

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, JsonResponse
from ninja import Field, Header, Query, Router, Schema
from ninja.conf import settings as ninja_settings
from ninja.errors import AuthorizationError
from ninja.pagination import AsyncPaginationBase, paginate
from ninja.responses import Status
from ninja.throttling import SimpleRateThrottle
from pydantic import (
    AfterValidator,
    BeforeValidator,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)

from orders import services
from orders.models import PRICE_PATTERN, Order, OrderLine, OrderQuerySet, OrderStatus, Product
from orders.selectors import aorder_get, orders_for_user, products_visible_to
from orders.services import MAX_ID, MAX_IDEMPOTENCY_KEY_LENGTH, MAX_LINE_QUANTITY, LineItem
from users.models import User

router = Router(tags=["orders"])

# --- Shared types -------------------------------------------------------------------------------


def _refuse_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("Null characters are not allowed.")
    return value


# A string without NUL characters (PostgreSQL text cannot store them); add a max length per use.
NulFreeStr = Annotated[
    str, AfterValidator(_refuse_nul), Field(json_schema_extra={"pattern": r"^[^\u0000]*$"})
]


def integral_float_to_int(value: Any) -> Any:
    # JSON Schema's "integer" includes 1.0 (as DRF's IntegerField does); 1.5 stays a float.
    return int(value) if isinstance(value, float) and value.is_integer() else value


# Strict integers: `"3"`, `true`, `1.5` and `null` are refused, not coerced. (The bounds come
# before the float check so that they stay in the JSON schema.)
Id = Annotated[int, Field(strict=True, ge=1, le=MAX_ID), BeforeValidator(integral_float_to_int)]
Quantity = Annotated[
    int, Field(strict=True, ge=1, le=MAX_LINE_QUANTITY), BeforeValidator(integral_float_to_int)
]
# A PostgreSQL integer, as the quantity.
Stock = Annotated[
    int, Field(strict=True, ge=0, le=MAX_LINE_QUANTITY), BeforeValidator(integral_float_to_int)
]


def _decimal_string(value: Any) -> Any:
    if not isinstance(value, str) or not re.fullmatch(PRICE_PATTERN, value):
        raise ValueError('Must be a decimal string such as "12.50".')
    return value


# Money comes in as the contract writes it, a decimal string ("12.50"), never a JSON number
# (a float cannot hold every price exactly).
MoneyIn = Annotated[
    Decimal,
    BeforeValidator(_decimal_string),
    Field(max_digits=12, decimal_places=2, ge=0),
    WithJsonSchema({"type": "string", "pattern": PRICE_PATTERN, "examples": ["12.50"]}),
]

# Outputs: ninja renders with Django's JSON encoder, which would cut microseconds to
# milliseconds and print a Decimal as it is stored on the instance; the contract wants
# "12.50" and "2026-11-27T14:30:53.305123Z", as Pydantic's own JSON mode writes them.
MoneyOut = Annotated[
    Decimal,
    PlainSerializer(lambda value: f"{value:.2f}", return_type=str),
    WithJsonSchema({"type": "string", "format": "decimal", "examples": ["12.50"]}),
]
UtcDateTime = Annotated[
    datetime,
    PlainSerializer(
        lambda value: value.astimezone(UTC).isoformat().replace("+00:00", "Z"), return_type=str
    ),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


def _iso_datetime(value: Any) -> datetime:
    """An ISO 8601 datetime or date (midnight), naive meaning UTC.

    Pydantic alone would also read `0.5` as a Unix time, which the documented format is not.
    """
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValueError("Expected an ISO 8601 datetime or date.") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


UtcDateTimeIn = Annotated[
    datetime,
    BeforeValidator(_iso_datetime),
    WithJsonSchema(
        {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "format": "date"}]}
    ),
]


class DetailOut(Schema):
    """Any error without a domain code: 400, 401, 403, 404, 413, 415, 429."""

    detail: str


class ErrorOut(Schema):
    """A refusal by the domain (`orders.exceptions`): a stable `code` and a message."""

    code: str
    detail: str


class ValidationIssue(Schema):
    type: str
    loc: list[str | int]
    msg: str
    ctx: dict[str, Any] | None = None


class ValidationErrorOut(Schema):
    """FastAPI's 422 body: `{"detail": [{"type", "loc": ["body", "age"], "msg"}]}`."""

    detail: list[ValidationIssue]


# The errors an operation may answer besides its own, documented so that responses conform:
# no login, not allowed (staff only, or a session write without its CSRF token), bad
# parameters, throttled.
AUTH_ERRORS: dict[int, Any] = {
    401: DetailOut,
    403: DetailOut,
    422: ValidationErrorOut,
    429: DetailOut,
}
# Operations with a JSON body also answer malformed JSON, a body too big, or not JSON.
BODY_ERRORS: dict[int, Any] = {400: DetailOut, 413: DetailOut, 415: DetailOut}


def current_user(request: HttpRequest) -> User:
    """The user `config.api`'s auth classes put on the request (every operation here needs one)."""
    return cast(User, request.auth)  # type: ignore[attr-defined]


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

    def get_ident(self, request: HttpRequest) -> str | None:
        # ninja trusts any X-Forwarded-For when NINJA_NUM_PROXIES is unset, so a client could
        # pick a new identity per request (and guess passwords unthrottled); unset here means
        # "no proxy": the peer address, as the DRF and plain styles count.
        if ninja_settings.NUM_PROXIES is None:
            return request.META.get("REMOTE_ADDR")
        return super().get_ident(request)

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


# --- Pagination ---------------------------------------------------------------------------------


class PagePagination(AsyncPaginationBase):
    """The contract's Page: `{count, next, previous, results}`, `page` and `page_size`.

    ninja's own PageNumberPagination answers `{items, count}` and an empty list past the end;
    the contract wants absolute `next`/`previous` links and a 404 past the last page.
    """

    items_attribute = "results"

    class Input(Schema):
        page: int = Field(1, ge=1)
        page_size: int | None = Field(None, ge=1, description="Capped at API_MAX_PAGE_SIZE.")

    class Output(Schema):
        count: int
        next: str | None
        previous: str | None
        results: list[Any]

    def paginate_queryset(
        self, queryset: QuerySet[Any], pagination: Input, request: HttpRequest, **params: Any
    ) -> Any:
        raise NotImplementedError("The ninja style's operations are all async.")

    async def apaginate_queryset(
        self, queryset: QuerySet[Any], pagination: Input, request: HttpRequest, **params: Any
    ) -> dict[str, Any]:
        size = min(pagination.page_size or settings.API_PAGE_SIZE, settings.API_MAX_PAGE_SIZE)
        count = await queryset.acount()
        offset = (pagination.page - 1) * size
        if pagination.page > 1 and offset >= count:
            raise Http404("Invalid page.")
        results = [obj async for obj in queryset[offset : offset + size]]
        return {
            "count": count,
            "next": _page_url(request, pagination.page + 1) if offset + size < count else None,
            "previous": _page_url(request, pagination.page - 1) if pagination.page > 1 else None,
            "results": results,
        }


def _page_url(request: HttpRequest, page: int) -> str:
    query = request.GET.copy()
    if page == 1:
        query.pop("page", None)
    else:
        query["page"] = str(page)
    return request.build_absolute_uri(f"{request.path}?{urlencode(query, doseq=True)}")


# --- Products -----------------------------------------------------------------------------------


Sku = Annotated[NulFreeStr, StringConstraints(min_length=1, max_length=64)]
ProductName = Annotated[NulFreeStr, StringConstraints(min_length=1, max_length=200)]
StrictBool = Annotated[bool, Field(strict=True)]


class ProductIn(Schema):
    sku: Sku
    name: ProductName
    price: MoneyIn
    stock: Stock
    is_active: StrictBool = True


def _not_nullable(schema: dict[str, Any]) -> None:
    """Drop the `null` from the JSON schema of an `X | None` field that may be left out."""
    branches = [branch for branch in schema.pop("anyOf", []) if branch.get("type") != "null"]
    schema.update(branches[0] if len(branches) == 1 else {"anyOf": branches})
    schema.pop("default", None)


class ProductPatch(Schema):
    """Any of ProductIn's fields: one left out is kept, `null` is refused."""

    sku: Sku | None = Field(None, json_schema_extra=_not_nullable)
    name: ProductName | None = Field(None, json_schema_extra=_not_nullable)
    price: MoneyIn | None = Field(None, json_schema_extra=_not_nullable)
    stock: Stock | None = Field(None, json_schema_extra=_not_nullable)
    is_active: StrictBool | None = Field(None, json_schema_extra=_not_nullable)

    @field_validator("sku", "name", "price", "stock", "is_active")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Runs only for fields sent in the body: a default is never validated.
        if value is None:
            raise ValueError("May not be null.")
        return value


class ProductOut(Schema):
    id: int
    sku: str
    name: str
    price: MoneyOut
    stock: int
    is_active: bool


# --- Orders -------------------------------------------------------------------------------------


class OrderLineIn(Schema):
    product_id: Id
    quantity: Quantity


class OrderIn(Schema):
    lines: list[OrderLineIn] = Field(min_length=1)


class OrderLineOut(Schema):
    product_id: int
    sku: str
    quantity: int
    unit_price: MoneyOut

    @staticmethod
    def resolve_sku(obj: OrderLine) -> str:
        return obj.product.sku  # selected with the line by OrderQuerySet.with_lines()


class OrderOut(Schema):
    id: int
    customer_id: int
    status: OrderStatus
    total: MoneyOut
    created_at: UtcDateTime
    updated_at: UtcDateTime
    lines: list[OrderLineOut]

    @staticmethod
    def resolve_lines(obj: Order) -> list[OrderLine]:
        return list(obj.lines.all())  # prefetched by the selectors: no query here


class TransitionIn(Schema):
    status: OrderStatus


class OrderFilters(Schema):
    status: OrderStatus | None = None
    created_after: UtcDateTimeIn | None = Field(None, description="ISO datetime or date, UTC.")
    created_before: UtcDateTimeIn | None = Field(None, description="ISO datetime or date, UTC.")
    ordering: Literal["created_at", "-created_at", "total", "-total"] = "-created_at"


# Each ordering with the id as tie-breaker in the same direction, so pages never overlap.
ORDERINGS: dict[str, tuple[str, str]] = {
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
    "total": ("total", "id"),
    "-total": ("-total", "-id"),
}


# --- Product operations -------------------------------------------------------------------------


def _require_staff(user: User) -> None:
    if not user.is_staff:
        raise AuthorizationError(message="Only staff may change products.")


async def _aproduct_get(*, user: User, product_id: int) -> Product:
    product = await products_visible_to(user=user).filter(pk=product_id).afirst()
    if product is None:
        raise Http404(f"Product {product_id} not found.")
    return product


@router.get("/products/", response={200: list[ProductOut], **AUTH_ERRORS, 404: DetailOut})
@paginate(PagePagination)
async def product_list(request: HttpRequest) -> QuerySet[Product]:
    """Products by sku: customers see the active ones, staff all."""
    return products_visible_to(user=current_user(request))


@router.post("/products/", response={201: ProductOut, **AUTH_ERRORS, **BODY_ERRORS})
async def product_create(request: HttpRequest, payload: ProductIn) -> Status[Product]:
    """Create a product (staff only)."""
    _require_staff(current_user(request))
    product = await sync_to_async(services.product_create)(**payload.dict())
    return Status(201, product)


@router.get("/products/{product_id}", response={200: ProductOut, **AUTH_ERRORS, 404: DetailOut})
async def product_detail(request: HttpRequest, product_id: int) -> Product:
    """A product; an inactive one is visible to staff only."""
    return await _aproduct_get(user=current_user(request), product_id=product_id)


@router.patch(
    "/products/{product_id}",
    response={200: ProductOut, **AUTH_ERRORS, **BODY_ERRORS, 404: DetailOut},
)
async def product_update(request: HttpRequest, product_id: int, payload: ProductPatch) -> Product:
    """Change any of a product's fields (staff only)."""
    user = current_user(request)
    _require_staff(user)
    product = await _aproduct_get(user=user, product_id=product_id)
    return await sync_to_async(services.product_update)(
        product=product, **payload.dict(exclude_unset=True)
    )


# --- Order operations ---------------------------------------------------------------------------


@router.get("/orders/", response={200: list[OrderOut], **AUTH_ERRORS, 404: DetailOut})
@paginate(PagePagination)
async def order_list(request: HttpRequest, filters: Query[OrderFilters]) -> OrderQuerySet:
    """Own orders (all for staff), newest first unless `ordering` says otherwise.

    Three queries per page however many orders: the count, the page, and its lines.
    """
    orders = orders_for_user(
        user=current_user(request),
        status=filters.status,
        created_from=filters.created_after,
        created_to=filters.created_before,
    )
    return orders.order_by(*ORDERINGS[filters.ordering])


@router.post(
    "/orders/",
    response={
        201: OrderOut,
        **AUTH_ERRORS,
        **BODY_ERRORS,
        409: ErrorOut,
        422: ValidationErrorOut | ErrorOut,
    },
    # The API's per-user budget (an operation's throttles replace it), and orders placed.
    throttle=[RateThrottle("user"), RateThrottle("orders")],
)
async def order_create(
    request: HttpRequest,
    payload: OrderIn,
    idempotency_key: Annotated[
        NulFreeStr | None,
        Header(
            None,
            alias="Idempotency-Key",
            min_length=1,
            max_length=MAX_IDEMPOTENCY_KEY_LENGTH,
            description="Same key and same lines replay the first answer.",
        ),
    ] = None,
) -> Status[Order] | JsonResponse:
    """Place an order; with an `Idempotency-Key`, repeating it replays the first answer."""
    user = current_user(request)
    order = await sync_to_async(services.order_place)(
        customer=user,
        lines=[
            LineItem(product_id=line.product_id, quantity=line.quantity) for line in payload.lines
        ],
        idempotency_key=idempotency_key,
    )
    first_answer = services.order_response_body(order)
    if first_answer is not None:
        # Placed with a key: the answer kept with it (already an OrderOut), first time and replays.
        return JsonResponse(first_answer, status=201)
    return Status(201, await aorder_get(user=user, order_id=order.pk))


@router.get("/orders/{order_id}", response={200: OrderOut, **AUTH_ERRORS, 404: ErrorOut})
async def order_detail(request: HttpRequest, order_id: int) -> Order:
    """An order of one's own (any order for staff); others' orders are 404."""
    return await aorder_get(user=current_user(request), order_id=order_id)


@router.post(
    "/orders/{order_id}/transition",
    response={
        200: OrderOut,
        **AUTH_ERRORS,
        **BODY_ERRORS,
        403: ErrorOut | DetailOut,
        404: ErrorOut,
        409: ErrorOut,
    },
)
async def order_transition_create(
    request: HttpRequest, order_id: int, payload: TransitionIn
) -> Order:
    """Move an order along the status machine: customers pay or cancel their own, staff all."""
    user = current_user(request)
    order = await aorder_get(user=user, order_id=order_id)
    return await sync_to_async(services.order_transition)(
        order=order, to_status=payload.status.value, actor=user
    )
