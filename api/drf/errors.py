"""DRF's exception handler and the documented error bodies.

DRF imports the classes named in settings.REST_FRAMEWORK while it defines `APIView`, so
this module must not import `rest_framework.views` (or anything that subclasses it) at import.
"""

from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from orders.exceptions import (
    OrderError,
)
from runtime.errors import BODY_TOO_LARGE


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus the domain's errors and Django's ValidationError.

    - `OrderError` -> `{"code", "detail"}` with the error's own `status`.
    - Django `ValidationError` (from `users.services.user_create`) -> 400 field map.
    - `RequestDataTooBig` (from `JSONParser`) -> 413.
    Anything else goes to DRF's handler, which leaves unknown errors to Django (a 500).
    """
    if isinstance(exc, OrderError):
        return Response({"code": exc.code, "detail": exc.message}, status=exc.status)
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, RequestDataTooBig):
        return Response(
            {"detail": BODY_TOO_LARGE},
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
