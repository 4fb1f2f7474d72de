"""Django's error views, answering in JSON under /api/ and with the usual pages elsewhere."""

import sys

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

from runtime.unavailable import database_unavailable_response, is_database_unavailable

BODY_TOO_LARGE = "Request body exceeds the maximum size."


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def body_too_large(path: str) -> HttpResponse:
    """The 413 for a body over DATA_UPLOAD_MAX_MEMORY_SIZE: JSON under /api/, text elsewhere."""
    if path.startswith("/api/"):
        return JsonResponse({"detail": BODY_TOO_LARGE}, status=413)
    return HttpResponse(BODY_TOO_LARGE, status=413, content_type="text/plain; charset=utf-8")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if not _is_api(request):
        return defaults.bad_request(request, exception)  # type: ignore[arg-type]
    if isinstance(exception, RequestDataTooBig):
        return body_too_large(request.path)
    return JsonResponse({"detail": "Bad request."}, status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if not _is_api(request):
        return defaults.permission_denied(request, exception)  # type: ignore[arg-type]
    return JsonResponse(
        {"detail": "You do not have permission to perform this action."}, status=403
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if not _is_api(request):
        return defaults.page_not_found(request, exception)
    return JsonResponse({"detail": "Not found."}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # A database outage outside any view (a session saved by its middleware) is a 503 too.
    # Django calls this while handling the error only on the sync path; under ASGI the error
    # is gone by then, and views' errors are DatabaseUnavailableMiddleware's anyway.
    if is_database_unavailable(sys.exc_info()[1]):
        return database_unavailable_response(request)
    if not _is_api(request):
        return defaults.server_error(request)
    return JsonResponse({"detail": "Internal server error."}, status=500)
