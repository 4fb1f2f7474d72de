"""The products and orders resources in Django REST Framework: viewsets and serializers."""

from datetime import UTC, datetime
from typing import Any, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
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

from config.drf import JSONParser, error_responses
from orders.models import Order, OrderLine, Product
from orders.selectors import order_get, orders_for_user
from orders.services import (
    MAX_ID,
    MAX_IDEMPOTENCY_KEY_LENGTH,
    MAX_LINE_QUANTITY,
    LineItem,
    order_place,
    order_transition,
)
from users.models import User

# More lines than this is not an order a person places; it bounds the work of one request.
MAX_ORDER_LINES = 100
IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"

PRODUCT_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The product's id.")
ORDER_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The order's id.")
IDEMPOTENCY_KEY = OpenApiParameter(
    IDEMPOTENCY_KEY_HEADER,
    {"type": "string", "minLength": 1, "maxLength": MAX_IDEMPOTENCY_KEY_LENGTH},
    OpenApiParameter.HEADER,
    description="Placing the same lines again with the same key returns the first order.",
)
# Validates the header's value (1..255 characters, no NUL); not a body field.
IDEMPOTENCY_KEY_FIELD = serializers.CharField(
    max_length=MAX_IDEMPOTENCY_KEY_LENGTH, trim_whitespace=False
)


# --- Serializers ------------------------------------------------------------------------------


@extend_schema_field(
    # drf-spectacular's own pattern for a decimal also matches "", "-" and ".", which DRF refuses.
    {"type": "string", "format": "decimal", "pattern": r"^\d{1,10}(?:\.\d{1,2})?$"}
)
class PriceField(serializers.DecimalField):
    """A price: a non-negative decimal string with at most two places (`"12.50"`)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_digits=12, decimal_places=2, min_value=0, **kwargs)


class ProductSerializer(serializers.ModelSerializer[Product]):
    # Explicit bounds: the database column's range, whichever database is behind it.
    stock = serializers.IntegerField(min_value=0, max_value=MAX_LINE_QUANTITY)
    price = PriceField()

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
    product_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)


class OrderCreateSerializer(serializers.Serializer[Order]):
    """`{"lines": [...]}` plus the optional `Idempotency-Key` header; placed by `order_place`."""

    # A ListField (not `many=True`) so that the schema states minItems and maxItems.
    lines = serializers.ListField(
        child=LineInSerializer(), allow_empty=False, min_length=1, max_length=MAX_ORDER_LINES
    )

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


class UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 date or datetime, in UTC; one that has no UTC equivalent is invalid.

    `9999-12-31T23:59:59-01:00` parses, but converting it for the query overflows (a 500).
    """

    def to_python(self, value: Any) -> datetime | None:
        parsed = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            raise DjangoValidationError(self.error_messages["invalid"], code="invalid") from None


class UtcDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


class OrderFilter(filters.FilterSet):
    """`created_after` is inclusive, `created_before` exclusive; a date means its midnight UTC."""

    status = filters.ChoiceFilter(choices=Order.Status.choices)
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Order
        fields = ["status", "created_after", "created_before"]


class StableOrderingFilter(OrderingFilter):
    """Orders by the requested field, then by id in the same direction, so pages never overlap."""

    def get_ordering(self, request: Request, queryset: QuerySet[Any], view: Any) -> list[str]:
        ordering = list(super().get_ordering(request, queryset, view) or [])
        if ordering and not {"id", "-id", "pk", "-pk"} & set(ordering):
            ordering.append("-id" if ordering[-1].startswith("-") else "id")
        return ordering


# --- Viewsets ---------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        responses={200: ProductSerializer(many=True), **error_responses(401, 404, 429)}
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
        products = Product.objects.order_by("sku")
        if getattr(self, "swagger_fake_view", False) or self.request.user.is_staff:
            return products
        return products.filter(is_active=True)


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
        # Read back with lines and products prefetched (a replay returns the first order).
        order = order_get(user=request.user, order_id=placed.pk)
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
