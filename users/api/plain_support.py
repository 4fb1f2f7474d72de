"""The hand-written pieces behind the plain views: what DRF and ninja would otherwise provide.

Error responses, body parsing, sign-up validation and the JSON renderers are plain functions
with no database or cache access, shared by both view styles. Authentication, the CSRF check
and the throttle touch the database or the cache, so they come in a sync and an async form.
"""

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import wraps
from typing import Any, cast

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.core.validators import validate_email
from django.http import HttpRequest, HttpResponse, JsonResponse, UnreadablePostError
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt

from orders.models import Order, OrderLine
from users.models import AGE_MAX, AGE_MIN, User
from users.selectors import auser_for_token, user_for_token

# --- Errors -------------------------------------------------------------------------------


class ApiError(Exception):
    """A refusal, answered as JSON `{"detail": ...}` by `json_view`."""

    def __init__(
        self, status: int, detail: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.headers = dict(headers or {})
        self.body: dict[str, Any] = {"detail": detail}

    def response(self) -> JsonResponse:
        return JsonResponse(self.body, status=self.status, headers=self.headers)


class FieldErrors(ApiError):
    """Bad fields: 400 `{"errors": {"age": ["Must be an integer."]}}`, one entry per field."""

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        super().__init__(400, "Invalid input.")
        self.body = {"errors": dict(errors)}


def not_authenticated(detail: str = "Authentication credentials were not provided.") -> ApiError:
    return ApiError(401, detail, headers={"WWW-Authenticate": "Bearer"})


def not_found() -> ApiError:
    return ApiError(404, "Not found.")


def json_view[V: Callable[..., Any]](method: str) -> Callable[[V], V]:
    """Serve one HTTP method, and answer every refusal as JSON.

    `ApiError` becomes its response, and a body over DATA_UPLOAD_MAX_MEMORY_SIZE (raised
    wherever `request.body` is first read) a 413. The view is exempt from Django's CSRF
    middleware, since API clients send no cookie; `enforce_session_csrf` checks the posts
    that do carry a logged-in session.
    """

    def refuse(request: HttpRequest) -> JsonResponse | None:
        if request.method == method:
            return None
        return JsonResponse(
            {"detail": f'Method "{request.method}" not allowed.'},
            status=405,
            headers={"Allow": method},
        )

    def answer(error: Exception) -> JsonResponse:
        if isinstance(error, ApiError):
            return error.response()
        return JsonResponse({"detail": "Request body exceeds the maximum size."}, status=413)

    def decorator(view: V) -> V:
        if iscoroutinefunction(view):

            @wraps(view)
            async def async_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
                if (refusal := refuse(request)) is not None:
                    return refusal
                try:
                    return await view(request, *args, **kwargs)
                except (ApiError, RequestDataTooBig) as error:
                    return answer(error)

            return cast("V", csrf_exempt(async_wrapper))

        @wraps(view)
        def sync_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if (refusal := refuse(request)) is not None:
                return refusal
            try:
                return view(request, *args, **kwargs)
            except (ApiError, RequestDataTooBig) as error:
                return answer(error)

        return cast("V", csrf_exempt(sync_wrapper))

    return decorator


# --- Request bodies -----------------------------------------------------------------------


def read_json_object(request: HttpRequest) -> dict[str, Any]:
    """The body as a JSON object: 415 for another content type, 400 for anything else."""
    if request.content_type != "application/json":
        raise ApiError(415, f'Unsupported media type "{request.content_type}" in request.')
    try:
        data = json.loads(request.body)
    except UnreadablePostError as error:
        raise ApiError(400, "The request body could not be read.") from error
    # ValueError covers bad syntax, bad UTF-8 and over-long integers.
    except ValueError as error:
        raise ApiError(400, "Malformed JSON.") from error
    except RecursionError:
        raise ApiError(400, "Malformed JSON: nested too deeply.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "The body must be a JSON object.")
    return data


@dataclass(frozen=True, slots=True)
class SignUp:
    email: str
    name: str
    age: int
    password: str


class _BadValue(Exception):
    """A field's value is refused; the message is shown to the client."""


def _text(value: object, *, max_length: int | None = None) -> str:
    if not isinstance(value, str):
        raise _BadValue("Must be a string.")
    if "\x00" in value:
        raise _BadValue("Null characters are not allowed.")
    try:
        value.encode()
    except UnicodeEncodeError:  # a lone surrogate ("\ud800") that no database can store
        raise _BadValue("Must be valid Unicode text.") from None
    if not value:
        raise _BadValue("This field may not be blank.")
    if max_length is not None and len(value) > max_length:
        raise _BadValue(f"Ensure this field has no more than {max_length} characters.")
    return value


def _is_email(text: str) -> bool:
    local, _, domain = text.partition("@")
    if not local or not domain or "@" in domain:
        return False
    try:
        validate_email(text)
    except ValidationError:
        return False
    return True


def _email(value: object) -> str:
    email = _text(value, max_length=254)
    if not _is_email(email):
        raise _BadValue("Enter a valid email address.")
    return email


def _name(value: object) -> str:
    return _text(value, max_length=150)


def _age(value: object) -> int:
    if type(value) is not int:  # not bool, float, str or null
        raise _BadValue("Must be an integer.")
    if not AGE_MIN <= value <= AGE_MAX:
        raise _BadValue(f"Must be between {AGE_MIN} and {AGE_MAX}.")
    return value


def _password(value: object) -> str:
    return _text(value)


_SIGN_UP_FIELDS: dict[str, Callable[[object], object]] = {
    "email": _email,
    "name": _name,
    "age": _age,
    "password": _password,
}


def validate_sign_up(data: Mapping[str, object]) -> SignUp:
    """The sign-up fields, checked by hand; unknown fields are ignored.

    Raises:
        FieldErrors: naming each missing or bad field. Password strength and a taken email
            are the domain's to judge (`users.services.user_create`).
    """
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for field, clean in _SIGN_UP_FIELDS.items():
        if field not in data:
            errors[field] = ["This field is required."]
            continue
        try:
            cleaned[field] = clean(data[field])
        except _BadValue as error:
            errors[field] = [str(error)]
    if errors:
        raise FieldErrors(errors)
    return SignUp(**cleaned)


# --- Representations ----------------------------------------------------------------------


def money(value: Decimal) -> str:
    return f"{value:.2f}"


def timestamp(value: datetime) -> str:
    """ISO 8601 in UTC with a Z, microseconds when non-zero: as DRF and Pydantic write it."""
    return value.astimezone(UTC).isoformat().removesuffix("+00:00") + "Z"


def user_json(user: User) -> dict[str, Any]:
    return {"id": user.pk, "email": user.email, "name": user.name, "age": user.age}


def line_json(line: OrderLine) -> dict[str, Any]:
    return {
        "product_id": line.product_id,
        "sku": line.product.sku,
        "quantity": line.quantity,
        "unit_price": money(line.unit_price),
    }


def order_json(order: Order) -> dict[str, Any]:
    """An order with its lines; expects them prefetched (`OrderQuerySet.with_lines`)."""
    return {
        "id": order.pk,
        "customer_id": order.customer_id,
        "status": order.status,
        "total": money(order.total),
        "created_at": timestamp(order.created_at),
        "updated_at": timestamp(order.updated_at),
        "lines": [line_json(line) for line in order.lines.all()],
    }


# --- Authentication and CSRF --------------------------------------------------------------


def bearer_key(request: HttpRequest) -> str | None:
    """The key of an `Authorization: Bearer <key>` header; None without one."""
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    return key.strip() if scheme.lower() == "bearer" else None


def authenticate(request: HttpRequest) -> User | AnonymousUser:
    """The bearer token's user if a token is sent, else the session's (maybe anonymous).

    Raises:
        ApiError: 401 for a bearer token that names no active user.
    """
    key = bearer_key(request)
    if key is None:
        return request.user
    user = user_for_token(key=key) if key else None
    if user is None:
        raise not_authenticated("Invalid token.")
    return user


async def aauthenticate(request: HttpRequest) -> User | AnonymousUser:
    """`authenticate` on the async ORM."""
    key = bearer_key(request)
    if key is None:
        return await request.auser()
    user = await auser_for_token(key=key) if key else None
    if user is None:
        raise not_authenticated("Invalid token.")
    return user


def _ignored(request: HttpRequest) -> HttpResponse:
    return HttpResponse()


def _csrf_passes(request: HttpRequest) -> bool:
    # Django's own check, as a form post gets it; a fresh instance reads the current settings.
    return CsrfViewMiddleware(_ignored).process_view(request, _ignored, (), {}) is None


CSRF_FAILED = "CSRF Failed: CSRF token missing or incorrect."


def _csrf_failed() -> ApiError:
    return ApiError(403, CSRF_FAILED)


def enforce_session_csrf(request: HttpRequest) -> None:
    """Refuse a post from a logged-in browser session without a valid CSRF token.

    Token clients and anonymous callers are not checked: no cookie logs them in, so a
    forged cross-site request gains nothing.
    """
    if bearer_key(request) is not None or not request.user.is_authenticated:
        return
    if not _csrf_passes(request):
        raise _csrf_failed()


async def aforged_session_post(request: HttpRequest) -> bool:
    """Whether the request comes from a logged-in browser session without a valid CSRF token.

    For async code (loading the session may hit the database); ninja's open sign-up asks it too.
    """
    if bearer_key(request) is not None or not (await request.auser()).is_authenticated:
        return False
    return not await sync_to_async(_csrf_passes)(request)


async def aenforce_session_csrf(request: HttpRequest) -> None:
    """`enforce_session_csrf` for async views."""
    if await aforged_session_post(request):
        raise _csrf_failed()


# --- Throttling ---------------------------------------------------------------------------

_PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, slots=True)
class _Window:
    """The current fixed window of one client's counter for a scope."""

    key: str
    limit: int
    seconds: int
    retry_after: int

    def refusal(self) -> ApiError:
        return ApiError(
            429,
            f"Request was throttled. Expected available in {self.retry_after} seconds.",
            headers={"Retry-After": str(self.retry_after)},
        )


def _window(request: HttpRequest, scope: str) -> _Window | None:
    """None when `scope` has no rate in API_THROTTLE_RATES (read per request, "10/hour")."""
    rate = settings.API_THROTTLE_RATES.get(scope)
    if not rate:
        return None
    limit, _, period = rate.partition("/")
    seconds = _PERIOD_SECONDS[period[0]]
    now = int(time.time())
    client = request.META.get("REMOTE_ADDR", "")
    return _Window(
        key=f"plain-throttle:{scope}:{client}:{now // seconds}",
        limit=int(limit),
        seconds=seconds,
        retry_after=seconds - now % seconds,
    )


def throttle(request: HttpRequest, scope: str) -> None:
    """Count this request in the client's window; 429 once past the scope's rate."""
    window = _window(request, scope)
    if window is None:
        return
    cache.add(window.key, 0, timeout=window.seconds)
    try:
        count = cache.incr(window.key)
    except ValueError:  # the entry expired between add and incr
        cache.set(window.key, 1, timeout=window.seconds)
        count = 1
    if count > window.limit:
        raise window.refusal()


async def athrottle(request: HttpRequest, scope: str) -> None:
    """`throttle` on the cache's async API."""
    window = _window(request, scope)
    if window is None:
        return
    await cache.aadd(window.key, 0, timeout=window.seconds)
    try:
        count = await cache.aincr(window.key)
    except ValueError:
        await cache.aset(window.key, 1, timeout=window.seconds)
        count = 1
    if count > window.limit:
        raise window.refusal()
