"""The django-ninja API object: `/api/ninja/`, docs at `/api/ninja/docs`.

Everything that turns a request into an error response is registered here, once for the whole
API: the exception handlers (validation in FastAPI's 422 shape, the domain's `OrderError`,
Django's `ValidationError`, oversize bodies); authentication (`api.ninja.auth`) and the
JSON-only parser (`api.ninja.parser`) are plugged in below.
"""

import inspect
import json
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.request import RawPostDataException
from django.urls import URLPattern, URLResolver
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from api.ninja.auth import BearerAuth, SessionAuth
from api.ninja.orders import router as orders_router
from api.ninja.parser import JSONOnlyParser
from api.ninja.throttles import RateThrottle
from api.ninja.users import router as users_router
from orders.exceptions import (
    OrderError,
)
from runtime.errors import BODY_TOO_LARGE
from runtime.unavailable import (
    DATABASE_UNAVAILABLE_ERRORS,
    database_unavailable_response,
    log_database_unavailable,
)

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
    throttle=RateThrottle(),
    parser=JSONOnlyParser(),
)
api.add_router("", users_router)
api.add_router("", orders_router)


# --- Exception handlers -------------------------------------------------------------------------


@api.exception_handler(OrderError)
def order_error(request: HttpRequest, exc: OrderError) -> HttpResponse:
    return api.create_response(
        request, {"code": exc.code, "detail": exc.message}, status=exc.status
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
        return api.create_response(request, {"detail": BODY_TOO_LARGE}, status=413)
    return api.create_response(request, {"detail": "Bad request."}, status=400)


@api.exception_handler(RawPostDataException)
def unreadable_body(request: HttpRequest, exc: RawPostDataException) -> HttpResponse:
    """A multipart body, already streamed by the CSRF check's look at request.POST."""
    return api.create_response(request, {"detail": "Send application/json."}, status=415)


def database_unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
    """503 while the database is down (runtime.unavailable). With DEBUG on, ninja's default
    handler would answer these with a traceback 500 before Django's middleware saw them."""
    log_database_unavailable(request, exc)
    return database_unavailable_response(request)


for _error in DATABASE_UNAVAILABLE_ERRORS:
    api.exception_handler(_error)(database_unavailable)
