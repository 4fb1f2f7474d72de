"""Django's ASGI handler, with two thread costs of every request taken out.

Django serves each ASGI request inside a `ThreadSensitiveContext`, so that the request's sync
code (sync middleware, sync views, the ORM behind `sync_to_async`) runs on a thread of its own.

1. Left to itself, asgiref makes a new single-thread executor for that on the request's first
   thread hop, and joins it afterwards from yet another new thread: two thread starts per
   request. Here a request borrows an idle single-thread executor and gives it back when it
   ends; its sync code still runs on one thread, one call at a time, as before. Django's
   per-thread database connections are closed at the end of each request (`request_finished`,
   in that thread), so the next request on the thread starts without one, as on a new thread.
2. Django closes every response through `sync_to_async`, a thread hop even after an `async def`
   view that ran no sync code at all. Here such a response is closed on the event loop: the
   `request_finished` receivers then find no connection to close in the loop's thread (async
   code holds none) and nothing else to do (the cache is in-process memory). A request that
   did run sync code is closed on its thread, as Django does.

On the fast path (`users/api/fast.py`) the two together were about a fifth of a request's CPU
(docs/benchmarks.md).
"""

import asyncio
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from typing import Any

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers import asgi
from django.db import close_old_connections, reset_queries
from django.urls import set_script_prefix


class RequestProcessed(Exception):
    """Ends the task group of a request whose response was sent."""


class RequestThread(ThreadPoolExecutor):
    """One worker thread, and whether any work was sent to it since `used` was cleared."""

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix="django-request")
        self.used = False

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.used = True
        return super().submit(fn, *args, **kwargs)


class ASGIHandler(asgi.ASGIHandler):
    """`django.core.handlers.asgi.ASGIHandler` with reused request threads (module docstring)."""

    # Threads kept idle between requests; a burst above this makes and drops extra ones.
    max_idle_threads = 64

    def __init__(self) -> None:
        super().__init__()
        self._idle: list[RequestThread] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        thread = self._idle.pop() if self._idle else RequestThread()
        thread.used = False
        try:
            async with ThreadSensitiveContext(executor=thread):
                await self._handle(scope, receive, send, thread)
        finally:
            if len(self._idle) < self.max_idle_threads:
                self._idle.append(thread)
            else:
                thread.shutdown(wait=False)

    async def _handle(
        self, scope: dict[str, Any], receive: Any, send: Any, thread: RequestThread
    ) -> None:
        """Django 6.1's `ASGIHandler.handle`, but for how the response is closed (2. above)."""
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return

        with closing(body_file):
            set_script_prefix(asgi.get_script_prefix(scope))
            await signals.request_started.asend(sender=self.__class__, scope=scope)
            request, error_response = self.create_request(scope, body_file)
            if request is None:
                body_file.close()
                assert error_response is not None  # noqa: S101 (create_request returns one)
                await self.send_response(error_response, send)
                await sync_to_async(error_response.close)()
                return

            response: Any = None
            try:
                try:
                    async with asyncio.TaskGroup() as tg:
                        tg.create_task(self.listen_for_disconnect(receive))
                        response = await self.run_get_response(request)
                        await self.send_response(response, send)
                        raise RequestProcessed  # noqa: TRY301 (as Django does)
                except* (RequestProcessed, RequestAborted):
                    pass
            except BaseExceptionGroup as exception_group:
                if len(exception_group.exceptions) == 1:
                    raise exception_group.exceptions[0]  # noqa: B904 (as Django does)
                raise

            if response is None:
                await signals.request_finished.asend(sender=self.__class__)
            elif thread.used:
                await sync_to_async(response.close)()
            else:
                response.close()


def http_application() -> ASGIHandler:
    """The ASGI application for HTTP (config.asgi, config.asgi_hot); call after django.setup().

    It also drops `request_started`'s two receivers. A request's sync code runs on a thread
    that holds no connection when the request starts: it is new, or the previous request closed
    its connections there when it finished. So they have nothing to do at the start, and as sync
    receivers they would cost a thread hop on every request. They still run when a request
    finishes, in the request's thread.
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_started.disconnect(reset_queries)
    return ASGIHandler()
