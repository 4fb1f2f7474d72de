"""The users resources in Django REST Framework: sign-up, a user, their orders, API tokens."""

from functools import cached_property
from typing import Any, cast

from django.contrib.auth import authenticate
from django.http import HttpRequest
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from api.drf.auth import BearerOrTokenAuthentication
from api.drf.errors import error_responses
from api.drf.fields import StrictCharField, StrictEmailField, StrictIntegerField
from api.drf.orders import OrderSerializer
from api.drf.parsers import JSONParser
from api.drf.renderers import ORJSONRenderer
from api.drf.throttles import SignupThrottle, TokenThrottle
from orders.selectors import orders_of_customer, user_orders_document, user_orders_values
from users.models import (
    AGE_MAX,
    AGE_MIN,
    CLIENT_NAME_MAX_LENGTH,
    DEFAULT_CLIENT_NAME,
    EMAIL_MAX_LENGTH,
    NAME_MAX_LENGTH,
    User,
)
from users.selectors import user_visible_to
from users.services import token_issue, token_revoke, user_create

USER_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The user's id.")


class UserSerializer(serializers.ModelSerializer[User]):
    class Meta:
        model = User
        fields = ["id", "email", "name", "age"]
        read_only_fields = fields


class UserCreateSerializer(serializers.Serializer[User]):
    """Sign-up input. Types and ranges here; uniqueness and password strength in `user_create`."""

    email = StrictEmailField(max_length=EMAIL_MAX_LENGTH)
    name = StrictCharField(max_length=NAME_MAX_LENGTH)
    age = StrictIntegerField(min_value=AGE_MIN, max_value=AGE_MAX)
    password = StrictCharField(
        write_only=True, trim_whitespace=False, style={"input_type": "password"}
    )

    def create(self, validated_data: dict[str, Any]) -> User:
        return user_create(**validated_data)


class UserOrdersSerializer(serializers.Serializer[Any]):
    """`GET users/{id}/orders`: the user and all of their orders, newest first."""

    user = UserSerializer()
    orders = OrderSerializer(many=True)


class CredentialsSerializer(serializers.Serializer[Any]):
    email = StrictCharField(max_length=EMAIL_MAX_LENGTH)
    password = StrictCharField(trim_whitespace=False, style={"input_type": "password"})
    client = StrictCharField(
        max_length=CLIENT_NAME_MAX_LENGTH,
        default=DEFAULT_CLIENT_NAME,
        trim_whitespace=False,
        help_text="The client's name: issuing again for the same name replaces its token.",
    )


class TokenSerializer(serializers.Serializer[Any]):
    token = serializers.CharField()


@extend_schema_view(
    create=extend_schema(
        summary="Sign up",
        request=UserCreateSerializer,
        responses={201: UserSerializer, **error_responses(400, 403, 415, 429)},
    ),
    retrieve=extend_schema(
        parameters=[USER_ID], responses={200: UserSerializer, **error_responses(401, 404, 429)}
    ),
)
class UserViewSet(
    mixins.CreateModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[User]
):
    """Open sign-up (throttled per address); a user is visible to themself and to staff."""

    parser_classes = [JSONParser]
    filter_backends: list[Any] = []
    lookup_value_regex = r"[0-9]{1,18}"

    def get_permissions(self) -> list[BasePermission]:
        # Sign-up is open; everything else needs a login.
        return [AllowAny()] if self.action == "create" else [IsAuthenticated()]

    def get_throttles(self) -> list[BaseThrottle]:
        throttles = super().get_throttles()
        if self.action == "create":
            throttles.append(SignupThrottle())
        return throttles

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        return UserCreateSerializer if self.action == "create" else UserSerializer

    def get_object(self) -> User:
        user = user_visible_to(viewer=self.request.user, user_id=int(self.kwargs["pk"]))
        if user is None:
            raise exceptions.NotFound()
        return user

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.save()
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="A user and all of their orders",
        parameters=[USER_ID],
        responses={200: UserOrdersSerializer, **error_responses(401, 404, 429)},
    )
    # DRF's own JSON renderer: the project's default (orjson) is a tuning, not the idiom.
    @action(detail=True, url_path="orders", renderer_classes=[JSONRenderer, BrowsableAPIRenderer])
    def orders(self, request: Request, pk: str) -> Response:
        """The article's endpoint as DRF's docs teach it: a serializer over a queryset.

        `orders_of_customer` prefetches the lines with their products, so two queries serve
        any number of orders; `UserOrdersSerializer` nests `OrderSerializer(many=True)`.
        """
        user = self.get_object()
        orders = orders_of_customer(customer_id=user.pk)
        return Response(UserOrdersSerializer({"user": user, "orders": orders}).data)


# --- The article's endpoint, tuned and raw (docs/benchmarks.md) --------------------------------


class RowSerializer(serializers.Serializer[Any]):
    """A read-only serializer of dict rows: each field's value read by its key.

    DRF's `Serializer.to_representation` reads every field through `Field.get_attribute`,
    which walks the dotted source and asks, per value, whether the instance is a Mapping, an
    ORM object or a callable: a third of the tuned tier's serializing time. A row is a dict
    whose keys are the fields' sources, so this reads `row[source]`, and, as DRF does, writes
    None without calling the field. Fields are listed once (the serializer is made once).

    Upgrade note: mirrors `rest_framework.serializers.Serializer.to_representation`;
    tests/api/test_drf_rows.py fingerprints that method and compares the two on the same rows.
    Re-read it when DRF is upgraded.
    """

    @cached_property
    def _row_fields(self) -> list[tuple[Any, Any, serializers.Field[Any, Any, Any, Any]]]:
        return [(field.field_name, field.source, field) for field in self._readable_fields]

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return {
            name: None if (value := instance[source]) is None else field.to_representation(value)
            for name, source, field in self._row_fields
        }


class LineRowSerializer(RowSerializer):
    """`OrderLineSerializer`'s fields declared by hand, over a `.values()` row.

    A `ModelSerializer` builds its fields from the model again on every use: declared fields
    skip that introspection (a fifth of the tuned tier's CPU with ModelSerializers).
    """

    product_id = serializers.IntegerField(read_only=True)
    sku = serializers.CharField(read_only=True)
    quantity = serializers.IntegerField(read_only=True)
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)


class OrderRowSerializer(RowSerializer):
    """`OrderSerializer`'s fields declared by hand, over a `.values()` row with its lines."""

    id = serializers.IntegerField(read_only=True)
    customer_id = serializers.IntegerField(read_only=True)
    status = serializers.CharField(read_only=True)
    total = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    lines = LineRowSerializer(many=True, read_only=True)


class UserRowSerializer(RowSerializer):
    id = serializers.IntegerField(read_only=True)
    email = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    age = serializers.IntegerField(read_only=True, allow_null=True)


class UserOrdersRowsSerializer(RowSerializer):
    """`UserOrdersSerializer`'s document, read from `.values()` rows rather than instances."""

    user = UserRowSerializer()
    orders = OrderRowSerializer(many=True)


# One serializer for every request: its fields are built once, where a serializer made per
# request deep-copies its declared fields again (a tenth of the tuned tier's CPU). Reused
# through `to_representation`, which keeps no state (`.data` would cache the first answer).
USER_ORDERS_ROWS = UserOrdersRowsSerializer()


class UserOrdersTunedView(APIView):
    """The tuned tier: DRF's serializers kept, fed `.values()` dicts instead of instances.

    The rows come from querysets compiled once (`orders.selectors.user_orders_values`), the
    serializer declares its fields and is made once, and orjson renders.

    `GET tuned/users/{id}/orders`, the same contract as `users/{id}/orders`.
    """

    renderer_classes = [ORJSONRenderer, BrowsableAPIRenderer]

    @extend_schema(
        summary="A user and all of their orders (tuned tier: .values() querysets)",
        operation_id="tuned_users_orders_retrieve",
        parameters=[USER_ID],
        responses={200: UserOrdersSerializer, **error_responses(401, 404, 429)},
    )
    def get(self, request: Request, pk: str) -> Response:
        document = user_orders_values(viewer=cast(User, request.user), user_id=int(pk))
        if document is None:
            raise exceptions.NotFound()
        return Response(USER_ORDERS_ROWS.to_representation(document))


class UserOrdersRawView(APIView):
    """The raw tier: DRF's request handling, the rows rendered by hand (`orders.contract`).

    `GET raw/users/{id}/orders`: no serializer at all. `UserOrdersSerializer` documents it.
    """

    @extend_schema(
        summary="A user and all of their orders (raw tier: SQL rows rendered by hand)",
        operation_id="raw_users_orders_retrieve",
        parameters=[USER_ID],
        responses={200: UserOrdersSerializer, **error_responses(401, 404, 429)},
    )
    def get(self, request: Request, pk: str) -> Response:
        document = user_orders_document(viewer=cast(User, request.user), user_id=int(pk))
        if document is None:
            raise exceptions.NotFound()
        return Response(document)


class TokenView(APIView):
    """`auth/token`: `POST` trades an email and password for an API token (throttled per
    address); `DELETE` revokes the token that authenticates the request."""

    parser_classes = [JSONParser]
    revoking = False  # a DELETE

    def initialize_request(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Request:
        # Known before DRF asks for the authenticators (drf-spectacular calls this too).
        self.revoking = request.method == "DELETE"
        return super().initialize_request(request, *args, **kwargs)

    def get_authenticators(self) -> list[Any]:
        # Only a token can revoke itself: a session's DELETE is not authenticated (401).
        return [BearerOrTokenAuthentication()] if self.revoking else super().get_authenticators()

    def get_permissions(self) -> list[BasePermission]:
        return [IsAuthenticated()] if self.revoking else [AllowAny()]

    def get_throttles(self) -> list[BaseThrottle]:
        # The token rate guards the password check: POST only.
        return (
            super().get_throttles()
            if self.revoking
            else [*super().get_throttles(), TokenThrottle()]
        )

    @extend_schema(
        summary="Issue an API token",
        description=(
            "Trade an email and password for an API token (`Authorization: Bearer <token>`), "
            "one per client name: issuing again for the same `client` replaces its token."
        ),
        request=CredentialsSerializer,
        responses={200: TokenSerializer, **error_responses(400, 401, 403, 415, 429)},
    )
    def post(self, request: Request) -> Response:
        serializer = CredentialsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(
            request._request,
            email=serializer.validated_data["email"],
            password=serializer.validated_data["password"],
        )
        if not isinstance(user, User):
            raise exceptions.AuthenticationFailed("Unable to log in with the provided credentials.")
        key = token_issue(user=user, client=serializer.validated_data["client"])
        return Response(TokenSerializer({"token": key}).data)

    @extend_schema(
        summary="Revoke the request's API token",
        description="Revoke the token that authenticates this request: its key stops working.",
        request=None,
        responses={204: None, **error_responses(401, 429)},
    )
    def delete(self, request: Request) -> Response:
        token_revoke(key=cast(str, request.auth))  # the key BearerOrTokenAuthentication read
        return Response(status=status.HTTP_204_NO_CONTENT)
