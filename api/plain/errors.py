"""The plain style's refusals, answered as JSON: what DRF and ninja would otherwise provide."""

from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, cast

from asgiref.sync import iscoroutinefunction
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from runtime.errors import BODY_TOO_LARGE


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


def json_view[V: Callable[..., Any]](*methods: str) -> Callable[[V], V]:
    """Serve these HTTP methods (the view tells them apart), and answer every refusal as JSON.

    `ApiError` becomes its response, and a body over DATA_UPLOAD_MAX_MEMORY_SIZE (raised
    wherever `request.body` is first read) a 413. The view is exempt from Django's CSRF
    middleware, since API clients send no cookie; `enforce_session_csrf` checks the posts
    that do carry a logged-in session.
    """

    def refuse(request: HttpRequest) -> JsonResponse | None:
        if request.method in methods:
            return None
        return JsonResponse(
            {"detail": f'Method "{request.method}" not allowed.'},
            status=405,
            headers={"Allow": ", ".join(methods)},
        )

    def answer(error: Exception) -> JsonResponse:
        if isinstance(error, ApiError):
            return error.response()
        return JsonResponse({"detail": BODY_TOO_LARGE}, status=413)

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
