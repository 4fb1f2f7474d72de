"""The database going away: 503 with `Retry-After`, not a 500 and not a hang.

When PostgreSQL stops (a restart, a failover, the network), queries fail with Django's
`OperationalError` or `InterfaceError` (psycopg's, wrapped), and a request that finds no
connection waits at most `DB_POOL_TIMEOUT` seconds for the pool (psycopg's `PoolTimeout`,
which Django wraps in `OperationalError`). The pool reconnects in the background, so requests
succeed again once the server is back, without restarting orderdesk.

`DatabaseUnavailableMiddleware` answers such an error raised by any view: JSON under /api/
(`{"detail", "code": "database_unavailable"}`), the `503.html` page elsewhere. DRF re-raises
errors its handler does not know, and so do the plain views, so they reach the middleware;
ninja answers them itself (a traceback 500 when DEBUG is on), so `api.ninja.api` maps them with
`database_unavailable_response` too. An outage outside any view (a session saved by its
middleware) is answered by `runtime.errors.server_error` under WSGI, where Django shows it the
error, and by `runtime.middleware.SessionMiddleware` under ASGI, where Django does not.

`OperationalError` also covers transient refusals of a running server (a deadlock, a
serialization failure, a lock or statement timeout): "try again shortly" fits those as well.
"""

import logging
from typing import Final

import psycopg
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.deprecation import MiddlewareMixin

logger = logging.getLogger(__name__)

DATABASE_UNAVAILABLE_ERRORS: Final = (
    OperationalError,
    InterfaceError,
    # Raw psycopg errors, from code that reaches the driver or the pool past Django's wrapper;
    # `psycopg_pool.PoolTimeout` is a `psycopg.OperationalError`.
    psycopg.OperationalError,
    psycopg.InterfaceError,
)

# Seconds a client should wait before trying again: about one pool timeout plus a reconnect.
RETRY_AFTER_SECONDS: Final = 5
DETAIL: Final = "The database is unavailable; try again shortly."
CODE: Final = "database_unavailable"


def is_database_unavailable(error: BaseException | None) -> bool:
    """Whether `error` says the database cannot be reached or cannot serve the query now."""
    return isinstance(error, DATABASE_UNAVAILABLE_ERRORS)


def database_unavailable_response(request: HttpRequest) -> HttpResponse:
    """503 with `Retry-After`: JSON under /api/, the `503.html` page elsewhere.

    The page is rendered without the request, so no context processor can touch the database
    (the lazy `user` would, for one).
    """
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": DETAIL, "code": CODE}, status=503, headers=headers)
    page = loader.render_to_string("503.html", {"retry_after": RETRY_AFTER_SECONDS})
    return HttpResponse(page, status=503, headers=headers)


def log_database_unavailable(request: HttpRequest, error: BaseException) -> None:
    """One line per refused request: an outage would otherwise flood the log with tracebacks."""
    logger.warning(
        "Database unavailable, answered 503 to %s %s: %s: %s",
        request.method,
        request.path,
        type(error).__name__,
        str(error).strip(),
    )


class DatabaseUnavailableMiddleware(MiddlewareMixin):
    """Turns a database outage raised by a view into a 503 (see the module docstring)."""

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_database_unavailable(exception):
            return None
        log_database_unavailable(request, exception)
        return database_unavailable_response(request)
