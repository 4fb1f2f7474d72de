"""The products and orders resources in Django REST Framework: viewsets and serializers."""

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django_filters import rest_framework as filters
from django_filters.fields import ChoiceField, IsoDateTimeField
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.permissions import BasePermission, IsAdminUser, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from api.drf.errors import error_responses
from api.drf.fields import StrictBooleanField, StrictCharField, StrictIntegerField
from api.drf.parsers import JSONParser
from api.drf.throttles import OrderThrottle
from orders.models import (
    PRICE_PATTERN,
    PRODUCT_NAME_MAX_LENGTH,
    SKU_MAX_LENGTH,
    Order,
    OrderLine,
    Product,
)
from orders.selectors import order_get, orders_for_user, products_visible_to
from orders.services import (
    MAX_ID,
    MAX_IDEMPOTENCY_KEY_LENGTH,
    MAX_LINE_QUANTITY,
    LineItem,
    order_place,
    order_response_body,
    order_transition,
    product_create,
    product_update,
)
from users.models import User

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"

PRODUCT_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The product's id.")
ORDER_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The order's id.")
IDEMPOTENCY_KEY = OpenApiParameter(
    IDEMPOTENCY_KEY_HEADER,
    {"type": "string", "minLength": 1, "maxLength": MAX_IDEMPOTENCY_KEY_LENGTH},
    OpenApiParameter.HEADER,
    description="Placing the same lines again with the same key replays the first answer.",
)
# Validates the header's value (1..255 characters, no NUL); not a body field.
IDEMPOTENCY_KEY_FIELD = serializers.CharField(
    max_length=MAX_IDEMPOTENCY_KEY_LENGTH, trim_whitespace=False
)


# --- Serializers ------------------------------------------------------------------------------


# Up to 10 digits, then up to 2 decimal places; ASCII digits only, no sign, exponent or spaces.


@extend_schema_field({"type": "string", "format": "decimal", "pattern": PRICE_PATTERN})
class PriceField(serializers.DecimalField):
    """A price: a decimal string with at most two places (`"12.50"`), exactly as documented.

    DRF's DecimalField also takes a JSON number, spaces around, `"1e2"` and non-ASCII digits.
    """

    default_error_messages = {
        "invalid": 'A decimal string is required, such as "12.50": up to 10 digits, then up to '
        "2 decimal places."
    }
    pattern = re.compile(PRICE_PATTERN)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_digits=12, decimal_places=2, min_value=0, **kwargs)

    def to_internal_value(self, data: Any) -> Decimal:
        if not isinstance(data, str) or not self.pattern.fullmatch(data):
            self.fail("invalid")
        return super().to_internal_value(data)


class ProductSerializer(serializers.ModelSerializer[Product]):
    """Types and bounds here; a taken SKU is refused by `product_create` / `product_update`."""

    sku = StrictCharField(max_length=SKU_MAX_LENGTH)
    name = StrictCharField(max_length=PRODUCT_NAME_MAX_LENGTH)
    price = PriceField()
    # Explicit bounds: the database column's range, whichever database is behind it.
    stock = StrictIntegerField(min_value=0, max_value=MAX_LINE_QUANTITY)
    # Left out on create: `product_create`'s default (active); on a change: unchanged.
    is_active = StrictBooleanField(required=False)

    class Meta:
        model = Product
        fields = ["id", "sku", "name", "price", "stock", "is_active"]


class OrderLineSerializer(serializers.ModelSerializer[OrderLine]):
    sku = serializers.CharField(source="product.sku", read_only=True)

    class Meta:
        model = OrderLine
        fields = ["product_id", "sku", "quantity", "unit_price"]
        read_only_fields = fields


class OrderSerializer(serializers.ModelSerializer[Order]):
    lines = OrderLineSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = ["id", "customer_id", "status", "total", "created_at", "updated_at", "lines"]
        read_only_fields = fields


class LineInSerializer(serializers.Serializer[LineItem]):
    product_id = StrictIntegerField(min_value=1, max_value=MAX_ID)
    quantity = StrictIntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)


class OrderCreateSerializer(serializers.Serializer[Order]):
    """`{"lines": [...]}` plus the optional `Idempotency-Key` header; placed by `order_place`."""

    # A ListField (not `many=True`) so that the schema states minItems. No maxItems: the cap
    # is the domain's (`MAX_ORDER_LINES` distinct products, repeats merged), so a request over
    # it is refused by `order_place` with 422 `invalid_order`, as in every style.
    lines = serializers.ListField(child=LineInSerializer(), allow_empty=False, min_length=1)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        key = self.context["request"].headers.get(IDEMPOTENCY_KEY_HEADER)
        if key is not None:
            try:
                attrs["idempotency_key"] = IDEMPOTENCY_KEY_FIELD.run_validation(key)
            except serializers.ValidationError as error:
                raise serializers.ValidationError({IDEMPOTENCY_KEY_HEADER: error.detail}) from None
        return attrs

    def create(self, validated_data: dict[str, Any]) -> Order:
        return order_place(
            customer=self.context["request"].user,
            lines=[LineItem(**line) for line in validated_data["lines"]],
            idempotency_key=validated_data.get("idempotency_key"),
        )


class OrderTransitionSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=Order.Status.choices)


# --- Filters ----------------------------------------------------------------------------------
# A filter that is given must hold a value: `?status=` would otherwise mean "no filter", while
# the schema allows no empty value.


def _refuse_blank(value: Any) -> None:
    if value == "":
        raise DjangoValidationError("This field may not be blank.", code="blank")


class StatusField(ChoiceField):
    def clean(self, value: Any) -> Any:
        _refuse_blank(value)
        return super().clean(value)


class StatusFilter(filters.ChoiceFilter):
    field_class = StatusField


class UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 date or datetime, in UTC; one that has no UTC equivalent is invalid.

    `9999-12-31T23:59:59-01:00` parses, but converting it for the query overflows (a 500).
    """

    def clean(self, value: Any) -> Any:
        _refuse_blank(value)
        return super().clean(value)

    def to_python(self, value: Any) -> datetime | None:
        parsed = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            raise DjangoValidationError(self.error_messages["invalid"], code="invalid") from None


@extend_schema_field(
    {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "format": "date"}]}
)
class UtcDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


class OrderFilter(filters.FilterSet):
    """`created_after` is inclusive, `created_before` exclusive; a date means its midnight UTC."""

    status = StatusFilter(choices=Order.Status.choices)
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Order
        fields = ["status", "created_after", "created_before"]


class StableOrderingFilter(OrderingFilter):
    """One of the view's `ordering_fields`, ascending or `-` descending, then the id the same way.

    DRF's own ignores a field it does not know, and takes a comma-separated list; here anything
    but one of the documented values is a 400. The id as tie-breaker keeps pages from overlapping.
    """

    def get_choices(self, view: Any) -> list[str]:
        return [f"{sign}{field}" for field in view.ordering_fields for sign in ("", "-")]

    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: Any) -> Any:
        # Checked here, not in get_ordering, which the browsable API also calls to render.
        if self.ordering_param in request.query_params:
            choice = serializers.ChoiceField(choices=self.get_choices(view))
            try:
                choice.run_validation(request.query_params[self.ordering_param])
            except serializers.ValidationError as error:
                raise serializers.ValidationError({self.ordering_param: error.detail}) from None
        return super().filter_queryset(request, queryset, view)

    def get_ordering(self, request: Request, queryset: QuerySet[Any], view: Any) -> list[str]:
        ordering = list(super().get_ordering(request, queryset, view) or [])
        if ordering and not {"id", "-id", "pk", "-pk"} & set(ordering):
            ordering.append("-id" if ordering[-1].startswith("-") else "id")
        return ordering

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["enum"] = self.get_choices(view)
            parameter["description"] = "The order of the results; `-` for descending."
        return parameters


# --- Viewsets ---------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        responses={200: ProductSerializer(many=True), **error_responses(400, 401, 404, 429)}
    ),
    retrieve=extend_schema(
        parameters=[PRODUCT_ID],
        responses={200: ProductSerializer, **error_responses(401, 404, 429)},
    ),
    create=extend_schema(
        responses={201: ProductSerializer, **error_responses(400, 401, 403, 415, 429)}
    ),
    update=extend_schema(
        parameters=[PRODUCT_ID],
        responses={200: ProductSerializer, **error_responses(400, 401, 403, 404, 415, 429)},
    ),
    partial_update=extend_schema(
        parameters=[PRODUCT_ID],
        responses={200: ProductSerializer, **error_responses(400, 401, 403, 404, 415, 429)},
    ),
)
class ProductViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet[Product],
):
    """Products ordered by SKU. Customers see active ones only; only staff create and change."""

    serializer_class = ProductSerializer
    parser_classes = [JSONParser]
    filter_backends: list[Any] = []
    lookup_value_regex = r"[0-9]{1,18}"

    def get_permissions(self) -> list[BasePermission]:
        if self.action in {"create", "update", "partial_update"}:
            return [IsAuthenticated(), IsAdminUser()]
        return [IsAuthenticated()]

    def get_queryset(self) -> QuerySet[Product]:
        return products_visible_to(user=self.request.user)

    def perform_create(self, serializer: serializers.BaseSerializer[Product]) -> None:
        serializer.instance = product_create(
            **serializer.validated_data, actor=cast(User, self.request.user)
        )

    def perform_update(self, serializer: serializers.BaseSerializer[Product]) -> None:
        product = cast(Product, serializer.instance)  # get_object()'s, as UpdateModelMixin passes
        serializer.instance = product_update(
            product=product, actor=cast(User, self.request.user), **serializer.validated_data
        )


@extend_schema_view(
    list=extend_schema(
        responses={200: OrderSerializer(many=True), **error_responses(400, 401, 404, 429)}
    ),
    retrieve=extend_schema(
        parameters=[ORDER_ID], responses={200: OrderSerializer, **error_responses(401, 404, 429)}
    ),
    create=extend_schema(
        parameters=[IDEMPOTENCY_KEY],
        request=OrderCreateSerializer,
        responses={
            201: OrderSerializer,
            **error_responses(400, 401, 403, 409, 413, 415, 422, 429),
        },
    ),
)
class OrderViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet[Order],
):
    """Own orders for a customer, all for staff, newest first; placing and moving orders."""

    parser_classes = [JSONParser]
    filter_backends = [filters.DjangoFilterBackend, StableOrderingFilter]
    filterset_class = OrderFilter
    ordering_fields = ["created_at", "total"]
    ordering = ["-created_at"]
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self) -> QuerySet[Order]:
        return orders_for_user(user=self.request.user)

    def get_throttles(self) -> list[BaseThrottle]:
        throttles = super().get_throttles()
        if self.action == "create":
            throttles.append(OrderThrottle())
        return throttles

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        if self.action == "create":
            return OrderCreateSerializer
        if self.action == "transition":
            return OrderTransitionSerializer
        return OrderSerializer

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        placed = serializer.save()
        first_answer = order_response_body(placed)
        if first_answer is not None:
            # Placed with an Idempotency-Key: the answer kept with it, first time and replays.
            return Response(first_answer, status=status.HTTP_201_CREATED)
        order = order_get(user=request.user, order_id=placed.pk)  # lines and products prefetched
        return Response(OrderSerializer(order).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Move an order along the status machine",
        parameters=[ORDER_ID],
        request=OrderTransitionSerializer,
        responses={200: OrderSerializer, **error_responses(400, 401, 403, 404, 409, 415, 429)},
    )
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str) -> Response:
        order = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = order_transition(
            order=order,
            to_status=serializer.validated_data["status"],
            actor=cast(User, request.user),
        )
        return Response(OrderSerializer(order).data)
