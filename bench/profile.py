"""`manage.py bench --profile NAME`: where one implementation spends a request's CPU.

Runs in a child process with the servers' environment (bench.servers.server_env) and calls the
implementation's ASGI or WSGI application in-process, one request after another, with no
server and no load generator: CPU per request (all threads), time in the garbage collector,
and cProfile's functions by cumulative time. Every implementation of `bench.servers` works:
the ones served by uvicorn through ASGI (on uvloop, with the app's lifespan when it has one,
as FastAPI's), the gunicorn ones through WSGI, each at its own URL prefix. Run directly:

    python -m bench.profile NAME PATH TOKEN REQUESTS [LINES [SORT]]
"""

import asyncio
import cProfile
import gc
import importlib
import io
import pstats
import sys
import time
from collections.abc import Callable
from typing import Any

from bench.servers import BY_NAME, Implementation

WARMUP = 200


class ProfileFailed(RuntimeError):
    """The implementation did not answer the profiled GET with a 200."""


class GcClock:
    """Wall time inside the collector, from gc.callbacks."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started


def _load(target: str) -> Any:
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


def asgi_caller(app: Any, path: str, token: str) -> Callable[[], Any]:
    """One GET through an ASGI application; asserts a 200."""

    async def call() -> None:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"127.0.0.1"), (b"authorization", f"Bearer {token}".encode())],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 80),
        }
        body = [{"type": "http.request", "body": b"", "more_body": False}]
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            if body:
                return body.pop()
            await asyncio.Event().wait()  # no disconnect: the request completes first
            return {}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await app(scope, receive, send)
        status = sent[0]["status"] if sent else None
        if status != 200:
            answer = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
            raise ProfileFailed(f"GET {path} answered {status}: {answer[:300]!r}")

    return call


def wsgi_caller(app: Any, path: str, token: str) -> Callable[[], None]:
    """One GET through a WSGI application; asserts a 200."""

    def call() -> None:
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_AUTHORIZATION": f"Bearer {token}",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(),
            "wsgi.errors": sys.stderr,
        }
        status: list[str] = []
        body = b"".join(app(environ, lambda line, headers, *exc: status.append(line)))
        if not status or not status[0].startswith("200"):
            raise ProfileFailed(f"GET {path} answered {status[:1]}: {body[:300]!r}")

    return call


def profile(
    impl: Implementation,
    path: str,
    token: str,
    requests: int,
    lines: int,
    *,
    sort: str = "cumulative",
) -> str:
    """The report: CPU and GC per request, then cProfile's top `lines` functions by `sort`."""
    app = _load(impl.app)
    url = impl.prefix + path
    asgi = impl.server == "uvicorn"
    caller: Any = asgi_caller(app, url, token) if asgi else wsgi_caller(app, url, token)
    profiler = cProfile.Profile()

    async def run_async() -> tuple[float, float]:
        router = getattr(app, "router", None)  # FastAPI: open its pool (lifespan)
        lifespan = router.lifespan_context(app) if router is not None else None
        if lifespan is not None:
            await lifespan.__aenter__()
        try:
            return await measure_async()
        finally:
            if lifespan is not None:
                await lifespan.__aexit__(None, None, None)

    async def measure_async() -> tuple[float, float]:
        for _ in range(WARMUP):
            await caller()
        return await timed_async()

    async def timed_async() -> tuple[float, float]:
        clock, started = GcClock(), time.process_time()
        for _ in range(requests):
            await caller()
        cpu = time.process_time() - started
        profiler.enable()
        for _ in range(requests):
            await caller()
        profiler.disable()
        return cpu, clock.seconds

    def run_sync() -> tuple[float, float]:
        for _ in range(WARMUP):
            caller()
        clock, started = GcClock(), time.process_time()
        for _ in range(requests):
            caller()
        cpu = time.process_time() - started
        profiler.enable()
        for _ in range(requests):
            caller()
        profiler.disable()
        return cpu, clock.seconds

    if asgi:
        import uvloop  # noqa: PLC0415 (what uvicorn runs on)

        cpu, in_gc = uvloop.run(run_async())
    else:
        cpu, in_gc = run_sync()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs().sort_stats(sort).print_stats(lines)
    # The GC clock also ran through the profiled half; both halves make the same garbage.
    return (
        f"{impl.name}: {requests} requests of {url}, in-process, one at a time\n"
        f"CPU per request {cpu * 1000 / requests:.3f} ms (all threads, unprofiled), "
        f"in the garbage collector {in_gc * 1000 / (2 * requests):.3f} ms\n\n"
        f"cProfile, {requests} more requests (its overhead inflates every figure):\n"
        + out.getvalue()
    )


def main(argv: list[str]) -> None:
    name, path, token, requests = argv[:4]
    lines = int(argv[4]) if len(argv) > 4 else 40
    sort = argv[5] if len(argv) > 5 else "cumulative"
    # A Django application module (config.asgi, config.asgi_hot, config.wsgi) sets Django up
    # itself, with its own settings.
    try:
        report = profile(BY_NAME[name], path, token, int(requests), lines, sort=sort)
    except ProfileFailed as error:
        sys.exit(f"{name}: {error}")
    sys.stdout.write(report)


if __name__ == "__main__":
    main(sys.argv[1:])
