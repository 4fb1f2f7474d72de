"""The django-ninja style of the orderdesk contract: products and orders (mounted at /api/ninja/).

`async def` operations with Pydantic schemas. Reads go through the selectors on the async ORM,
writes through the sync services in `sync_to_async` (transactions do not run in async mode).
Errors are raised, never returned: `api.ninja.api` maps them to responses in one place.
"""

from typing import Annotated, Any, Literal

from asgiref.sync import sync_to_async
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, JsonResponse
from ninja import Field, Header, Query, Router, Schema
from ninja.errors import AuthorizationError
from ninja.pagination import paginate
from ninja.responses import Status
from pydantic import (
    StringConstraints,
    field_validator,
)

from api.ninja.pagination import PagePagination
from api.ninja.schemas import (
    AUTH_ERRORS,
    BODY_ERRORS,
    DetailOut,
    ErrorOut,
    Id,
    MoneyIn,
    MoneyOut,
    NulFreeStr,
    Quantity,
    Stock,
    UtcDateTime,
    UtcDateTimeIn,
    ValidationErrorOut,
    current_user,
)
from api.ninja.throttles import RateThrottle
from orders import services
from orders.models import (
    PRODUCT_NAME_MAX_LENGTH,
    SKU_MAX_LENGTH,
    Order,
    OrderLine,
    OrderQuerySet,
    OrderStatus,
    Product,
)
from orders.selectors import aorder_get, orders_for_user, products_visible_to
from orders.services import MAX_IDEMPOTENCY_KEY_LENGTH, LineItem
from users.models import User

router = Router(tags=["orders"])

# --- Products -----------------------------------------------------------------------------------


Sku = Annotated[NulFreeStr, StringConstraints(min_length=1, max_length=SKU_MAX_LENGTH)]
ProductName = Annotated[
    NulFreeStr, StringConstraints(min_length=1, max_length=PRODUCT_NAME_MAX_LENGTH)
]
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
    user = current_user(request)
    _require_staff(user)
    product = await sync_to_async(services.product_create)(**payload.dict(), actor=user)
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
        product=product, actor=user, **payload.dict(exclude_unset=True)
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
    throttle=[RateThrottle(), RateThrottle("orders")],
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
