"""Static files served by the workers: ServeStatic's middleware, under WSGI too.

`servestatic.middleware.ServeStaticMiddleware` serves STATIC_ROOT's files (the manifest's
hashed names cached for good, gzip when asked for) and is async only. Under ASGI it is used as
it is: its `__call__` is a coroutine, so no request hops to a thread. Under WSGI (gunicorn's
sync workers) Django would run every request through `async_to_sync` for it, a new thread and
event loop each: drf-raw's CPU per request went from 2.3 to 4.0 ms (docs/benchmarks.md).
There only the requests under STATIC_URL go to ServeStatic; the rest go straight on.

On a ServeStatic upgrade: tests/ops/test_static_production.py serves a file through this module
under WSGI and under ASGI, and checks that ServeStatic's middleware is still async only (once it
is sync-capable too, this module can go).
"""

from collections.abc import Callable
from typing import Any

from asgiref.sync import async_to_sync, iscoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponseBase
from django.utils.decorators import sync_and_async_middleware
from servestatic.middleware import ServeStaticMiddleware


@sync_and_async_middleware
def serve_static(get_response: Callable[[HttpRequest], Any]) -> Callable[[HttpRequest], Any]:
    """ServeStatic's middleware; under WSGI, only for the paths under its prefix."""
    if iscoroutinefunction(get_response):
        return ServeStaticMiddleware(get_response)
    static = ServeStaticMiddleware(sync_to_async(get_response))
    prefix = static.static_prefix
    serve = async_to_sync(static)

    def middleware(request: HttpRequest) -> HttpResponseBase:
        if request.path_info.startswith(prefix):
            return serve(request)
        return get_response(request)

    return middleware
