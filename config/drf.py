"""The DRF plumbing named in settings.REST_FRAMEWORK: authentication, pagination, throttles,
the exception handler, and the JSON-only parser.

DRF imports the classes named in its settings while it defines `APIView`, so this module must
not import `rest_framework.views` (or anything that subclasses `APIView`) at import time.
"""

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, parsers, renderers, serializers, status
from rest_framework.authentication import TokenAuthentication, get_authorization_header
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle
from rest_framework.utils.encoders import JSONEncoder

from orders.exceptions import (
    IdempotencyKeyReused,
    InsufficientStock,
    InvalidOrder,
    InvalidTransition,
    OrderError,
    OrderNotFound,
    ProductUnavailable,
    TransitionNotPermitted,
)
from users.models import User
from users.selectors import user_for_token

if TYPE_CHECKING:
    from drf_spectacular.openapi import AutoSchema  # imports rest_framework.views

# --- Authentication ---------------------------------------------------------------------------


class BearerOrTokenAuthentication(TokenAuthentication):
    """`Authorization: Bearer <key>` or `Token <key>`, looked up in our own `users.Token` table.

    `authenticate_header` makes DRF answer 401 with `WWW-Authenticate: Bearer` (not 403) when
    a request carries no credentials.
    """

    keywords = (b"bearer", b"token")

    def authenticate(self, request: Request) -> tuple[User, None] | None:
        auth = get_authorization_header(request).split()
        if not auth or auth[0].lower() not in self.keywords:
            return None
        if len(auth) != 2:  # the keyword and the key
            raise exceptions.AuthenticationFailed(
                "Invalid token header: expected '<keyword> <key>'."
            )
        try:
            key = auth[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("Invalid token header.") from None
        return self.authenticate_credentials(key)

    def authenticate_credentials(self, key: str) -> tuple[User, None]:
        user = user_for_token(key=key)
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        return user, None

    def authenticate_header(self, request: Request) -> str:
        return "Bearer"


class BearerOrTokenScheme(OpenApiAuthenticationExtension):
    """Documents `BearerOrTokenAuthentication` as HTTP bearer auth (`Token` works as well)."""

    target_class = BearerOrTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: "AutoSchema") -> dict[str, str]:
        return {"type": "http", "scheme": "bearer"}


# --- Strict fields ---------------------------------------------------------------------------
# DRF's fields coerce what they can read: `0` and `"yes"` become booleans, `12` the string "12",
# `"7"` the integer 7. The schema states each field's JSON type, and bad input gets a 400 naming
# the field (as Pydantic's strict types refuse it in the ninja style), so these take only that.


class StrictCharField(serializers.CharField):
    """A JSON string only. `max_length` counts the string as sent, before any trimming."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")  # "Not a valid string."
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class StrictEmailField(StrictCharField, serializers.EmailField):
    """A JSON string that is an email address, taken as sent (no trimming)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)


class StrictBooleanField(serializers.BooleanField):
    """JSON `true` or `false` only."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")  # "Must be a valid boolean."
        return data


class StrictIntegerField(serializers.IntegerField):
    """A JSON number without a fraction: `3`, or `3.0` (JSON has one number type; ninja agrees)."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, float) and data.is_integer():
            data = int(data)
        if type(data) is not int:  # not a bool either
            self.fail("invalid")  # "A valid integer is required."
        return data


class QueryIntegerField(serializers.IntegerField):
    """An integer query parameter: ASCII digits with an optional sign, nothing else.

    DRF's IntegerField also reads `" 5"`, `"5.0"`, `"1_0"` and non-ASCII digits.
    """

    pattern = re.compile(r"[+-]?[0-9]+", re.ASCII)

    def to_internal_value(self, data: Any) -> int:
        if not isinstance(data, str) or not self.pattern.fullmatch(data):
            self.fail("invalid")
        return super().to_internal_value(data)


QUERY_POSITIVE_INTEGER = QueryIntegerField(min_value=1)


# --- Parsing and pagination -------------------------------------------------------------------


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with Django's body-size limit, which DRF's stream reading bypasses.

    A body over `DATA_UPLOAD_MAX_MEMORY_SIZE` raises `RequestDataTooBig`, answered with 413;
    one nested deeper than Python's json can recurse a 400 (DRF's would let RecursionError out).
    """

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and isinstance(stream, HttpRequest):
            # Reading `.body` applies the limit to the declared length before reading anything.
            stream.body  # noqa: B018
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None


class Pagination(PageNumberPagination):
    """Page-number pagination; `page_size` is clamped to `API_MAX_PAGE_SIZE`.

    DRF's own ignores a `page_size` it cannot read (`?page_size=x` gets the default) and reads
    `?page=` as 1 and `?page=last` as the last page. Here both are integers from 1, as the schema
    says, and anything else is a 400 naming the parameter. A page past the end stays a 404.
    """

    page_size_query_param = "page_size"
    last_page_strings = ()

    def __init__(self) -> None:
        # Read per request (DRF makes one paginator per view instance), not at import.
        self.page_size = settings.API_PAGE_SIZE
        self.max_page_size = settings.API_MAX_PAGE_SIZE

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        # Both parameters are checked before any query, so one 400 names every bad one.
        params = _query_params(request, {"page": 1, "page_size": settings.API_PAGE_SIZE})
        self._page_number = params["page"]
        self._page_size = min(params["page_size"], settings.API_MAX_PAGE_SIZE)
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request: Request) -> int:
        return self._page_size

    def get_page_number(self, request: Request, paginator: Any) -> int:
        return self._page_number

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == "page_size":
                parameter["description"] = (
                    f"Results per page, {settings.API_PAGE_SIZE} by default; "
                    f"a larger value than {settings.API_MAX_PAGE_SIZE} counts as "
                    f"{settings.API_MAX_PAGE_SIZE}."
                )
        return parameters


def _query_params(request: Request, defaults: dict[str, int]) -> dict[str, int]:
    """Each named query parameter as a positive integer (its default when absent).

    Raises:
        rest_framework.exceptions.ValidationError: a field map naming each bad parameter.
    """
    values: dict[str, int] = {}
    errors: dict[str, Any] = {}
    for name, default in defaults.items():
        if name not in request.query_params:
            values[name] = default
            continue
        try:
            # A repeated parameter counts by its last value, as `QueryDict.get` reads it.
            values[name] = QUERY_POSITIVE_INTEGER.run_validation(request.query_params[name])
        except exceptions.ValidationError as error:
            errors[name] = error.detail
    if errors:
        raise exceptions.ValidationError(errors)
    return values


# --- Throttling -------------------------------------------------------------------------------


class _SettingsRate(SimpleRateThrottle):
    """Reads its rate from `settings.API_THROTTLE_RATES[scope]` when each request is checked.

    DRF's own throttles read `THROTTLE_RATES` once at import, which neither shares the rates
    with the other API styles nor lets a test change them.
    """

    scope: str

    def get_rate(self) -> str | None:
        return settings.API_THROTTLE_RATES[self.scope]

    def get_ident(self, request: Request) -> str:
        # DRF trusts any X-Forwarded-For when NUM_PROXIES is unset, so a client could pick a
        # new identity per request; unset here means "no proxy": the peer address.
        if api_settings.NUM_PROXIES is None:
            return str(request.META.get("REMOTE_ADDR", ""))
        return super().get_ident(request)


class AnonThrottle(_SettingsRate, AnonRateThrottle):
    scope = "anon"


class UserThrottle(_SettingsRate, UserRateThrottle):
    scope = "user"


class _PerAddress(_SettingsRate):
    """Counts requests per client address, logged in or not: guards endpoints open to all."""

    def get_cache_key(self, request: Request, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class SignupThrottle(_PerAddress):
    scope = "signup"


class TokenThrottle(_PerAddress):
    scope = "token"


class OrderThrottle(_SettingsRate, UserRateThrottle):
    """Orders placed per user (`POST orders/`), on top of the user's overall budget."""

    scope = "orders"


# --- Errors -----------------------------------------------------------------------------------

# The contract's status for each domain refusal; a subclass not listed takes its parent's.
ORDER_ERROR_STATUS: dict[type[OrderError], int] = {
    InsufficientStock: status.HTTP_409_CONFLICT,
    InvalidTransition: status.HTTP_409_CONFLICT,
    IdempotencyKeyReused: status.HTTP_422_UNPROCESSABLE_ENTITY,
    ProductUnavailable: status.HTTP_422_UNPROCESSABLE_ENTITY,
    InvalidOrder: status.HTTP_422_UNPROCESSABLE_ENTITY,
    TransitionNotPermitted: status.HTTP_403_FORBIDDEN,
    OrderNotFound: status.HTTP_404_NOT_FOUND,
}


def order_error_status(error: OrderError) -> int:
    for cls in type(error).__mro__:
        if cls in ORDER_ERROR_STATUS:
            return ORDER_ERROR_STATUS[cls]
    return status.HTTP_422_UNPROCESSABLE_ENTITY


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus the domain's errors and Django's ValidationError.

    - `OrderError` -> `{"code", "detail"}` with the contract's status.
    - Django `ValidationError` (from `users.services.user_create`) -> 400 field map.
    - `RequestDataTooBig` (from `JSONParser`) -> 413.
    Anything else goes to DRF's handler, which leaves unknown errors to Django (a 500).
    """
    if isinstance(exc, OrderError):
        return Response({"code": exc.code, "detail": exc.message}, status=order_error_status(exc))
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, RequestDataTooBig):
        return Response(
            {"detail": "Request body exceeds the maximum size."},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    # Imported here: importing rest_framework.views imports the classes named in its settings,
    # this module's among them.
    from rest_framework.views import exception_handler as drf_exception_handler  # noqa: PLC0415

    return drf_exception_handler(exc, context)


# --- Error bodies in the OpenAPI schema -------------------------------------------------------


class ErrorSerializer(serializers.Serializer[Any]):
    """`{"detail"}`; a domain refusal answered with 403 or 404 also carries its `code`."""

    detail = serializers.CharField()
    code = serializers.CharField(required=False)


class DomainErrorSerializer(serializers.Serializer[Any]):
    """`{"code", "detail"}`: a refusal by the order domain (`orders.exceptions`)."""

    code = serializers.CharField()
    detail = serializers.CharField()


# DRF's field map (`{"age": ["A valid integer is required."]}`; order lines nest by index,
# `{"lines": {"0": {"quantity": [...]}}}`) or, for a malformed body, `{"detail": "..."}`.
VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "additionalProperties": {
        "anyOf": [{"type": "array", "items": {}}, {"type": "object"}, {"type": "string"}]
    },
}

_ERROR_DESCRIPTIONS = {
    400: "Invalid input: a field map naming each bad field, or a malformed body.",
    401: "Not authenticated (`WWW-Authenticate: Bearer`), or wrong credentials.",
    403: "Not allowed, or a missing CSRF token with session authentication.",
    404: "Unknown, someone else's, or a page past the end.",
    409: "Refused by the order domain: not enough stock, or a forbidden transition.",
    413: "The body is larger than the server accepts.",
    415: "The body is not `application/json`.",
    422: "Refused by the order domain: an unknown product, an idempotency key reused.",
    429: "Throttled: retry after the `Retry-After` header's seconds.",
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """The documented error responses for `extend_schema(responses=...)`, by status code."""
    bodies: dict[int, Any] = {400: VALIDATION_ERROR_SCHEMA, 409: DomainErrorSerializer}
    bodies[422] = DomainErrorSerializer
    return {
        code: OpenApiResponse(
            response=bodies.get(code, ErrorSerializer), description=_ERROR_DESCRIPTIONS[code]
        )
        for code in codes
    }


# --- Rendering ----------------------------------------------------------------------------------


class ORJSONRenderer(renderers.JSONRenderer):
    """DRF's JSON renderer on orjson: the same compact JSON, several times faster to write.

    What orjson does not write as DRF does goes through DRF's encoder (`default`): dates and
    times (DRF writes UTC as `Z`), decimals, lazy strings. Pretty printing (`indent`, as the
    browsable API asks for) and what orjson refuses (integers beyond 64 bits, NaN) fall back
    to DRF's own renderer.
    """

    _encoder = JSONEncoder()
    _options = orjson.OPT_PASSTHROUGH_DATETIME

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if data is None:
            return b""
        if self.get_indent(accepted_media_type or "", renderer_context or {}) is None:
            try:
                rendered = orjson.dumps(data, default=self._encoder.default, option=self._options)
            except orjson.JSONEncodeError:
                pass
            else:
                # As DRF: U+2028 and U+2029 escaped, so the output is also valid JavaScript.
                return rendered.replace(b"\xe2\x80\xa8", b"\\u2028").replace(
                    b"\xe2\x80\xa9", b"\\u2029"
                )
        return super().render(data, accepted_media_type, renderer_context)
