"""The ninja style's shared types: NUL-free strings, money and time, the error bodies.

Shared by the orders and users routers (`GET users/{id}/orders` renders `OrderOut`).
"""

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, cast

from django.http import HttpRequest
from ninja import Field, Schema
from pydantic import (
    AfterValidator,
    BeforeValidator,
    PlainSerializer,
    WithJsonSchema,
)

from orders import contract
from orders.models import PRICE_PATTERN
from orders.services import MAX_ID, MAX_LINE_QUANTITY
from users.models import User
from users.validators import UNICODE_TEXT_MESSAGE, is_unicode_text


def _storable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("Null characters are not allowed.")
    if not is_unicode_text(value):
        raise ValueError(UNICODE_TEXT_MESSAGE)
    return value


# A string without NUL characters (PostgreSQL text cannot store them) or lone surrogates (no
# UTF-8 encoder can write them); add a max length per use.
NulFreeStr = Annotated[
    str, AfterValidator(_storable), Field(json_schema_extra={"pattern": r"^[^\u0000]*$"})
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
# "12.50" and "2026-11-27T14:30:53.305123Z": the formats of orders.contract.
MoneyOut = Annotated[
    Decimal,
    PlainSerializer(contract.money, return_type=str),
    WithJsonSchema({"type": "string", "format": "decimal", "examples": ["12.50"]}),
]
UtcDateTime = Annotated[
    datetime,
    PlainSerializer(contract.timestamp, return_type=str),
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
    """The user the API's auth classes put on the request (every operation here needs one)."""
    return cast(User, request.auth)  # type: ignore[attr-defined]
