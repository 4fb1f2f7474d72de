"""The django-ninja API object: `/api/ninja/`, docs at `/api/ninja/docs`.

Everything that turns a request into an error response lives here, once for the whole API:
authentication, the JSON-only body parser, and the exception handlers (validation in FastAPI's
422 shape, the domain's `OrderError`, Django's `ValidationError`, oversize bodies).
"""

import inspect
import json
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.request import RawPostDataException
from django.urls import URLPattern, URLResolver
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import APIKeyCookie, HttpBearer
from ninja.types import DictStrAny
from ninja.utils import check_csrf

from config.unavailable import (
    DATABASE_UNAVAILABLE_ERRORS,
    database_unavailable_response,
    log_database_unavailable,
)
from orders.api.ninja import RateThrottle
from orders.api.ninja import router as orders_router
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
from users.api.ninja import router as users_router
from users.models import User
from users.selectors import auser_for_token

# --- Authentication -----------------------------------------------------------------------------


class BearerAuth(HttpBearer):
    """`Authorization: Bearer <key>`, looked up on the async ORM. No CSRF: not a cookie.

    ninja 1.7 sees that `authenticate` is a coroutine function (`AuthBase.is_async`) and
    awaits what the inherited sync `__call__` returns, so the whole check stays on the loop.
    """

    async def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = await auser_for_token(key=token.strip())
        if user is not None:
            request.user = user  # so nothing later resolves the lazy session user synchronously
        return user


class SessionAuth(APIKeyCookie):
    """The Django session (the browser, the admin), on `await request.auser()`.

    Why not ninja's `django_auth`: it reads `request.user` synchronously. ninja 1.7's async
    operations run such a sync auth callback in `sync_to_async` (older releases called it on
    the loop and raised SynchronousOnlyOperation, vitalik/django-ninja#1251), so it works, at
    the cost of a thread hop per request. And it checks CSRF before it knows whether anyone is
    logged in, so an anonymous POST would get 403 instead of the contract's 401. This class
    resolves the user first, then applies Django's CSRF middleware logic (`check_csrf`) to
    unsafe methods: ninja marks all its views csrf_exempt and leaves CSRF to cookie auth.
    """

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        super().__init__(csrf=False)  # checked in authenticate, once the user is known

    async def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        if key is None:
            return None
        user = await request.auser()
        if not isinstance(user, User) or not user.is_active:
            return None
        if check_csrf(request) is not None:
            raise HttpError(403, "CSRF check failed.")
        return user


# --- Parsing ------------------------------------------------------------------------------------


class UnsupportedMediaType(HttpError):
    def __init__(self, content_type: str) -> None:
        super().__init__(415, f'Unsupported media type "{content_type}": send application/json.')


class JSONOnlyParser(Parser):
    """ninja parses any body as JSON whatever its Content-Type; the contract wants 415.

    ninja wraps whatever the parser raises in a 400 `HttpError` (keeping it as `__cause__`);
    `http_error` below answers with the cause when it is an `HttpError` itself. A body nested
    deeper than Python's json can recurse gets a 400 naming that, not the RecursionError's text.
    Every body here is an object: ninja would read `[]`, `5` or `null` as `{}`, which a PATCH
    whose fields are all optional accepts as a change of nothing.
    """

    def parse_body(self, request: HttpRequest) -> DictStrAny:
        content_type = request.content_type or ""
        if content_type.lower() != "application/json":
            raise UnsupportedMediaType(content_type)
        try:
            data = super().parse_body(request)
        except RecursionError:
            raise HttpError(400, "Cannot parse request body (JSON nested too deeply).") from None
        if not isinstance(data, dict):
            raise HttpError(400, "The body must be a JSON object.")
        return data


# --- The API ------------------------------------------------------------------------------------


class OrderdeskAPI(NinjaAPI):
    """A NinjaAPI whose 405 answers are JSON, like every other error of the contract."""

    @property
    def urls(self) -> tuple[list[URLResolver | URLPattern], str, str]:
        patterns, app_name, namespace = super().urls
        return [_with_json_405(pattern) for pattern in patterns], app_name, namespace


def _with_json_405(pattern: URLResolver | URLPattern) -> URLResolver | URLPattern:
    """ninja answers a wrong method with a plain-text 405; rewrite it as `{"detail": ...}`."""
    if not isinstance(pattern, URLPattern) or not inspect.iscoroutinefunction(pattern.callback):
        return pattern  # the docs and schema views are sync and GET-only
    view = pattern.callback

    async def json_405(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response: HttpResponse = await view(request, *args, **kwargs)
        if response.status_code != 405 or response.get("Content-Type", "").startswith(
            "application/json"
        ):
            return response
        json_response = JsonResponse(
            {"detail": f'Method "{request.method}" not allowed.'}, status=405
        )
        json_response["Allow"] = response["Allow"]
        return json_response

    # ninja's views are csrf_exempt (cookie auth checks CSRF itself); without this, Django's
    # middleware would refuse every bearer-token POST.
    json_405.csrf_exempt = True  # type: ignore[attr-defined]
    return URLPattern(pattern.pattern, json_405, pattern.default_args, pattern.name)


api = OrderdeskAPI(
    title="orderdesk API (django-ninja)",
    version="1.0.0",
    description="Customers, products and orders: the django-ninja style of the orderdesk contract.",
    urls_namespace="ninja",
    docs_url="/docs",
    # Tried in order; neither matching is 401. `POST users/` and `POST auth/token` say auth=None.
    auth=[BearerAuth(), SessionAuth()],
    # One per-user budget over every operation; the open ones set their own throttles.
    throttle=RateThrottle("user"),
    parser=JSONOnlyParser(),
)
api.add_router("", users_router)
api.add_router("", orders_router)


# --- Exception handlers -------------------------------------------------------------------------

DOMAIN_STATUS: dict[type[OrderError], int] = {
    InsufficientStock: 409,
    InvalidTransition: 409,
    IdempotencyKeyReused: 422,
    ProductUnavailable: 422,
    InvalidOrder: 422,
    TransitionNotPermitted: 403,
    OrderNotFound: 404,
}


def _status_for(error: OrderError) -> int:
    for cls in type(error).__mro__:
        if cls in DOMAIN_STATUS:
            return DOMAIN_STATUS[cls]
    return 422


@api.exception_handler(OrderError)
def order_error(request: HttpRequest, exc: OrderError) -> HttpResponse:
    return api.create_response(
        request, {"code": exc.code, "detail": exc.message}, status=_status_for(exc)
    )


def _json_safe(value: Any) -> Any:
    """`value` if JSON can write it, else its text (an exception in a Pydantic `ctx`)."""
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return str(value)
    return value


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """FastAPI's 422: `{"detail": [{"type", "loc": ["body", "age"], "msg"}]}`.

    ninja locates body errors under the operation's parameter name (`["body", "payload",
    "age"]`); every operation here takes its body as one schema, so that second element is
    always the parameter name and is dropped.
    """
    issues = []
    for error in exc.errors:
        loc = list(error.get("loc", ()))
        if len(loc) > 1 and loc[0] == "body":
            del loc[1]
        issue: dict[str, Any] = {"type": error["type"], "loc": loc, "msg": error["msg"]}
        if error.get("ctx"):
            issue["ctx"] = {key: _json_safe(value) for key, value in error["ctx"].items()}
        issues.append(issue)
    return api.create_response(request, {"detail": issues}, status=422)


@api.exception_handler(DjangoValidationError)
def django_validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    """A service's ValidationError (email taken, weak password) in the same 422 shape."""
    fields: dict[str, list[DjangoValidationError]] = (
        exc.error_dict if hasattr(exc, "error_dict") else {"__all__": exc.error_list}
    )
    issues = [
        {
            "type": error.code or "value_error",
            "loc": ["body"] if field == "__all__" else ["body", field],
            "msg": " ".join(error.messages),
        }
        for field, errors in fields.items()
        for error in errors
    ]
    return api.create_response(request, {"detail": issues}, status=422)


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    cause = exc.__cause__
    if isinstance(cause, HttpError):  # raised by the parser, wrapped by ninja in a 400
        exc = cause
    response = api.create_response(request, {"detail": exc.message}, status=exc.status_code)
    if isinstance(exc, AuthenticationError):
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or "Not found."}, status=404)


@api.exception_handler(SuspiciousOperation)
def suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
    """Django's refusals of a request (too many fields, a body over the limit) raise inside the
    operation, where ninja would answer them with a traceback when DEBUG is on."""
    if isinstance(exc, RequestDataTooBig):
        return api.create_response(
            request, {"detail": "Request body exceeds the maximum size."}, status=413
        )
    return api.create_response(request, {"detail": "Bad request."}, status=400)


@api.exception_handler(RawPostDataException)
def unreadable_body(request: HttpRequest, exc: RawPostDataException) -> HttpResponse:
    """A multipart body, already streamed by the CSRF check's look at request.POST."""
    return api.create_response(request, {"detail": "Send application/json."}, status=415)


def database_unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
    """503 while the database is down (config.unavailable). With DEBUG on, ninja's default
    handler would answer these with a traceback 500 before Django's middleware saw them."""
    log_database_unavailable(request, exc)
    return database_unavailable_response(request)


for _error in DATABASE_UNAVAILABLE_ERRORS:
    api.exception_handler(_error)(database_unavailable)
