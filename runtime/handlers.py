"""Django's ASGI handler, with two thread costs and the cyclic garbage of every request taken out.

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
3. Django's handler leaves every request behind as cyclic garbage (78 objects on the fast
   path; FastAPI's none): it ends the task group that watches for a disconnect by raising an
   exception, whose traceback holds the frames that hold the request, and the middleware's
   lazy attributes refer back to the request. What a collection does not reclaim at once is
   promoted while requests wait on the database, and was reclaimed by the older, slower
   collections: about 7% of a worker's CPU at L = 50 ms, and its memory growing under load.
   Here the disconnect is watched without the group (`DisconnectWatch`) and the request's
   attributes are dropped when it is done, so reference counting frees it.

4. Django reads a whole body (to a temporary file, on disk past FILE_UPLOAD_MAX_MEMORY_SIZE)
   before it looks at the body's size: a client could make a worker spool 64 MB before its
   413. Here a body declared (Content-Length) or found, while it arrives, to be larger than
   DATA_UPLOAD_MAX_MEMORY_SIZE is answered 413 at once and the rest is not read. orderdesk
   takes no file uploads, so the limit holds for every request.

On the fast path (`api/plain/fast.py`) 1. and 2. together were about a fifth of a request's
CPU (docs/benchmarks.md).

On a Django or asgiref upgrade: re-read `django.core.handlers.asgi.ASGIHandler.handle`,
`__call__` and `read_body` against `_handle`, `__call__` and `BodyCap` here, and asgiref's
`ThreadSensitiveContext`; tests/test_tripwires.py fails when any of them changed since the
version reviewed.
"""

import asyncio
from collections.abc import Coroutine
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from typing import Any

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers import asgi
from django.db import close_old_connections, reset_queries
from django.urls import set_script_prefix

from runtime.errors import body_too_large


class DisconnectWatch:
    """Cancels the request's task if the client disconnects first, as Django's task group does.

    Django runs the view beside a task that listens for `http.disconnect`, in an
    `asyncio.TaskGroup`, and ends the group by raising an exception once the response is sent.
    The same, without the group and the exception: `stop()` cancels the listener when the
    response is out, and a disconnect cancels the request's task (`cancelled_request`).
    """

    def __init__(self, listening: Coroutine[Any, Any, None]) -> None:
        task = asyncio.current_task()
        assert task is not None  # noqa: S101 (ASGI applications run in a task)
        self._task = task
        self._watching = True
        self.cancelled_request = False
        self._listener = asyncio.ensure_future(listening)
        self._listener.add_done_callback(self._ended)

    def _ended(self, listener: asyncio.Future[None]) -> None:
        if listener.cancelled():
            return
        listener.exception()  # retrieved here, so asyncio never logs it as forgotten
        if self._watching:
            self.cancelled_request = True
            self._task.cancel()

    def stop(self) -> None:
        """Stop listening; raise what the listener raised, unless it was the disconnect."""
        self._watching = False
        listener = self._listener
        if not listener.done():
            listener.cancel()
            return
        if self.cancelled_request:
            self._task.uncancel()  # the cancellation was ours, and it has been handled
        error = None if listener.cancelled() else listener.exception()
        if error is not None and not isinstance(error, RequestAborted):
            raise error


class RequestThread(ThreadPoolExecutor):
    """One worker thread, and whether any work was sent to it since `used` was cleared."""

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix="django-request")
        self.used = False

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.used = True
        return super().submit(fn, *args, **kwargs)


class BodyTooLarge(Exception):
    """The request's body is larger than DATA_UPLOAD_MAX_MEMORY_SIZE: 4. in the module docstring."""


class BodyCap:
    """`receive`, counting the body's bytes as they arrive: past `limit`, BodyTooLarge.

    Django's `read_body` calls it until the body ends; raising stops it there, unread.
    """

    def __init__(self, receive: Any, limit: int) -> None:
        self.receive = receive
        self.limit = limit
        self.seen = 0

    @staticmethod
    def declared_too_large(scope: dict[str, Any], limit: int) -> bool:
        """Whether the Content-Length header already says the body is over `limit`."""
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                return value.isdigit() and int(value) > limit
        return False

    async def __call__(self) -> dict[str, Any]:
        message: dict[str, Any] = await self.receive()
        if message["type"] == "http.request":
            self.seen += len(message.get("body", b""))
            if self.seen > self.limit:
                raise BodyTooLarge
        return message


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

    async def read_body_within_limit(self, scope: dict[str, Any], receive: Any) -> Any:
        """`read_body`, raising BodyTooLarge (4. above) instead of reading a body over the limit."""
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is None:
            return await self.read_body(receive)
        if BodyCap.declared_too_large(scope, limit):
            raise BodyTooLarge
        return await self.read_body(BodyCap(receive, limit))

    async def _handle(
        self, scope: dict[str, Any], receive: Any, send: Any, thread: RequestThread
    ) -> None:
        """Django 6.1's `ASGIHandler.handle`, but for 2., 3. and 4. above."""
        try:
            body_file = await self.read_body_within_limit(scope, receive)
        except RequestAborted:
            return
        except BodyTooLarge:
            refusal = body_too_large(scope.get("path", ""))
            refusal["Connection"] = "close"  # the rest of the body is not read
            await self.send_response(refusal, send)
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
            watch = DisconnectWatch(self.listen_for_disconnect(receive))
            try:
                response = await self.run_get_response(request)
                await self.send_response(response, send)
            except asyncio.CancelledError:
                if not watch.cancelled_request:
                    raise  # cancelled from outside (a server shutting down): let it end us
            finally:
                watch.stop()

            if response is None:
                await signals.request_finished.asend(sender=self.__class__)
            elif thread.used:
                await sync_to_async(response.close)()
            else:
                response.close()
            # The request is done with. Its lazy attributes refer back to it (`request.user`'s
            # closure, `request.auser`, the message storage), so without this it would live on
            # as cyclic garbage until a collection: 3. in the module docstring.
            request.__dict__.clear()


async def reset_queries_when_debugging(**kwargs: Any) -> None:
    """`reset_queries` at the start of a request, in its thread, while `DEBUG` is on.

    With `DEBUG` on, each thread's connection logs its queries (`connection.queries`, up to
    9,000) until something resets the log; a reused request thread would otherwise carry the
    earlier requests' queries. An async receiver, so with `DEBUG` off it costs no thread hop.
    """
    if settings.DEBUG:
        await sync_to_async(reset_queries)()  # the request's thread (ThreadSensitiveContext)


def http_application() -> ASGIHandler:
    """The ASGI application for HTTP (config.asgi, config.asgi_hot); call after django.setup().

    It also replaces `request_started`'s two sync receivers, each a thread hop per request.
    `close_old_connections` has nothing to do at the start: a request's sync code runs on a
    thread that holds no connection then (it is new, or the previous request closed its
    connections there when it finished, where the receiver still runs). `reset_queries` has
    work only while `DEBUG` is on: `reset_queries_when_debugging` does it then.
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_started.disconnect(reset_queries)
    signals.request_started.connect(reset_queries_when_debugging)
    return ASGIHandler()
