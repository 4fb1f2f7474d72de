"""The implementations under test: how each is served, started, sampled and stopped.

One worker process each, on loopback. The Django styles run the project's own WSGI or ASGI
application with production settings (DEBUG off) and throttle rates raised out of the way;
the peers run from `bench.peers`.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.data import PROJECT

STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 3.0
THREADS = 32


TIERS = ("idiomatic", "tuned", "raw")


@dataclass(frozen=True, slots=True)
class Implementation:
    """One way of serving the endpoint: a name, a server command and the URL prefix.

    `tier` is how it is written: `idiomatic` (as the framework's docs teach: ORM and
    serializers or schemas), `tuned` (as fast as it goes keeping its ORM and its own serializer
    or schema) or `raw` (SQL and a fast JSON encoder). `framework` groups the rows of the
    answer table (docs/benchmarks.md).
    """

    name: str
    label: str
    server: str  # "gunicorn-sync", "gunicorn-gthread", "uvicorn" or "bolt" (its runbolt)
    app: str
    prefix: str
    django: bool
    tier: str
    framework: str

    def command(self, port: int) -> list[str]:
        bind = f"127.0.0.1:{port}"
        python = sys.executable
        if self.server == "uvicorn":
            return [
                python, "-m", "uvicorn", self.app, "--host", "127.0.0.1", "--port", str(port),
                "--no-access-log", "--log-level", "warning",
            ]  # fmt: skip
        if self.server == "bolt":
            # django-bolt's own Rust server; `app` is the settings module naming its BoltAPI.
            return [
                python, str(PROJECT / "manage.py"), "runbolt", "--settings", self.app,
                "--host", "127.0.0.1", "--port", str(port), "--processes", "1", "--workers", "1",
                "--no-admin", "--skip-checks", "--backlog", "2048",
            ]  # fmt: skip
        worker = ["-k", "sync"] if self.server == "gunicorn-sync" else [
            "-k", "gthread", "--threads", str(THREADS),
        ]  # fmt: skip
        return [
            python, "-m", "gunicorn", self.app, "-b", bind, "-w", "1", *worker,
            "--log-level", "warning", "--backlog", "2048",
        ]  # fmt: skip


WSGI = "config.wsgi:application"
ASGI = "config.asgi:application"
IMPLEMENTATIONS: list[Implementation] = [
    # --- Django ---------------------------------------------------------------------------------
    Implementation(
        "drf", "DRF ModelSerializer over a prefetched queryset, gunicorn 32 threads",
        "gunicorn-gthread", WSGI, "/api/drf/", django=True, tier="idiomatic", framework="DRF",
    ),
    Implementation(
        "drf-tuned", "DRF serializers over .values() querysets, orjson renderer, 32 threads",
        "gunicorn-gthread", WSGI, "/api/drf/tuned/", django=True, tier="tuned", framework="DRF",
    ),
    Implementation(
        "drf-raw", "DRF view returning SQL rows rendered by hand, 32 threads",
        "gunicorn-gthread", WSGI, "/api/drf/raw/", django=True, tier="raw", framework="DRF",
    ),
    Implementation(
        "ninja", "ninja async, Schema output over the async ORM, uvicorn", "uvicorn", ASGI,
        "/api/ninja/", django=True, tier="idiomatic", framework="django-ninja",
    ),
    Implementation(
        "ninja-tuned", "ninja async, Schema dump_json over async .values() querysets, uvicorn",
        "uvicorn", ASGI, "/api/ninja/tuned/", django=True, tier="tuned",
        framework="django-ninja",
    ),
    Implementation(
        "ninja-raw", "ninja async, SQL rows rendered by hand, orjson, uvicorn", "uvicorn", ASGI,
        "/api/ninja/raw/", django=True, tier="raw", framework="django-ninja",
    ),
    Implementation(
        "plain-async", "plain async view on the async ORM, uvicorn", "uvicorn", ASGI,
        "/api/plain/async/", django=True, tier="idiomatic", framework="Django plain views",
    ),
    Implementation(
        "plain-sync", "plain sync view on the ORM, gunicorn 32 threads", "gunicorn-gthread",
        WSGI, "/api/plain/sync/", django=True, tier="idiomatic", framework="Django plain views",
    ),
    Implementation(
        "fast-async", "fast path: async view, SQL on psycopg's async pool, orjson, uvicorn",
        "uvicorn", ASGI, "/api/fast/", django=True, tier="raw", framework="Django plain views",
    ),
    Implementation(
        "fast-hot", "fast path in the hot-path worker (config.asgi_hot), uvicorn", "uvicorn",
        "config.asgi_hot:application", "/api/fast/", django=True, tier="raw",
        framework="Django plain views",
    ),
    # --- Peers (bench/peers/) -------------------------------------------------------------------
    Implementation(
        "fastapi-sqla", "FastAPI async, SQLAlchemy 2 AsyncSession + selectinload, pydantic "
        "from_attributes, uvicorn", "uvicorn", "bench.peers.fastapi_sqla:app", "/",
        django=False, tier="idiomatic", framework="FastAPI",
    ),
    Implementation(
        "fastapi-sqla-sync", "FastAPI sync def, SQLAlchemy 2 Session, pydantic "
        "from_attributes, uvicorn", "uvicorn", "bench.peers.fastapi_sqla_sync:app", "/",
        django=False, tier="idiomatic", framework="FastAPI",
    ),
    Implementation(
        "fastapi-sqla-tuned", "FastAPI async, SQLAlchemy 2 column selects, pydantic "
        "TypeAdapter dump_json, uvicorn", "uvicorn", "bench.peers.fastapi_sqla_tuned:app", "/",
        django=False, tier="tuned", framework="FastAPI",
    ),
    Implementation(
        "fastapi-pydantic", "FastAPI async, SQL on psycopg's async pool, pydantic response "
        "models, uvicorn", "uvicorn", "bench.peers.fastapi_pydantic:app", "/", django=False,
        tier="raw", framework="FastAPI",
    ),
    Implementation(
        "fastapi-orjson", "FastAPI async, SQL on psycopg's async pool, orjson, uvicorn",
        "uvicorn", "bench.peers.fastapi_app:app", "/", django=False, tier="raw",
        framework="FastAPI",
    ),
    Implementation(
        "flask-sqla", "Flask, Flask-SQLAlchemy models, jsonify, gunicorn 32 threads",
        "gunicorn-gthread", "bench.peers.flask_sqla:app", "/", django=False, tier="idiomatic",
        framework="Flask",
    ),
    Implementation(
        "bolt", "django-bolt: typed async handler, Django ORM prefetch, msgspec Structs, 1 worker",
        "bolt", "bench.peers.bolt_settings", "/", django=True, tier="idiomatic",
        framework="django-bolt",
    ),
    Implementation(
        "flask-raw", "Flask, SQL on psycopg's pool, orjson, gunicorn 32 threads",
        "gunicorn-gthread", "bench.peers.flask_app:app", "/", django=False, tier="raw",
        framework="Flask",
    ),
]  # fmt: skip
BY_NAME = {implementation.name: implementation for implementation in IMPLEMENTATIONS}
# The ratios' yardsticks: FastAPI as its users write it on raw SQL (pydantic response models),
# and FastAPI on its full-stack idiom (SQLAlchemy's async ORM).
REFERENCE = "fastapi-pydantic"
ORM_REFERENCE = "fastapi-sqla"


def server_env(database_url: str, pool_size: int) -> dict[str, str]:
    """Production settings on loopback, throttles out of the way, one pool size for all."""
    unlimited = "1000000000/s"
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "bench-only-secret-key-not-for-production-use-0123456789",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_LOG_LEVEL": "WARNING",
        "API_THROTTLE_ANON": unlimited,
        "API_THROTTLE_USER": unlimited,
        "DB_POOL_MIN_SIZE": "1",
        "DB_POOL_MAX_SIZE": str(pool_size),
        "BENCH_DATABASE_URL": database_url,
        "BENCH_POOL_SIZE": str(pool_size),
        "PYTHONPATH": str(PROJECT),
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    implementation: Implementation
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.implementation.prefix}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


class ServerFailed(RuntimeError):
    pass


def get(url: str, token: str, timeout: float = 10.0) -> tuple[int, bytes]:
    """One GET with the bearer token: the status and the body."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _wait_until_serving(server: Server, url: str, token: str) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        if server.process.poll() is not None:
            raise ServerFailed(f"{server.implementation.name} exited:\n{server.output()}")
        try:
            get(url, token, timeout=2)
        except OSError:
            if time.monotonic() > deadline:
                raise ServerFailed(
                    f"{server.implementation.name} did not answer within {STARTUP_TIMEOUT:g} s:"
                    f"\n{server.output()}"
                ) from None
            time.sleep(0.1)  # polling for readiness
        else:
            return


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server and its workers now: its whole process group, killed if it lingers.

    gunicorn's graceful stop would first finish every queued request (up to 30 s), and a
    worker left behind would load the next measurement.
    """
    for sig, wait in ((signal.SIGTERM, STOP_TIMEOUT), (signal.SIGKILL, STOP_TIMEOUT)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(wait)
        except subprocess.TimeoutExpired:
            continue
        # The leader is gone; make sure no worker of its group outlives it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        break


@contextmanager
def serving(
    implementation: Implementation,
    *,
    env: dict[str, str],
    probe_path: str,
    token: str,
    cpu: int | None,
) -> Iterator[Server]:
    """Start the server, wait until `probe_path` answers, and always stop it afterwards."""
    port = free_port()
    command = implementation.command(port)
    if cpu is not None and shutil.which("taskset"):
        command = ["taskset", "-c", str(cpu), *command]
    with tempfile.NamedTemporaryFile(prefix=f"bench-{implementation.name}-", suffix=".log") as log:
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and servers)
            command,
            cwd=PROJECT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as one
        )
        server = Server(implementation, process, port, Path(log.name))
        try:
            _wait_until_serving(server, server.base_url + probe_path, token)
            yield server
        finally:
            _stop(process)


# --- Sampling /proc -----------------------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants (read from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of the processes, in seconds."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return ticks / CLOCK_TICKS


def peak_rss_mb(pid: int) -> float:
    """VmHWM (peak resident set) of one process, in MiB; 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def worker_pids(server: Server) -> list[int]:
    """The worker: gunicorn's forked child, or the uvicorn process itself."""
    tree = process_tree(server.process.pid)
    # Under taskset the first process execs into the server, so the tree root is the server.
    workers = [pid for pid in tree if pid != server.process.pid]
    return workers or [server.process.pid]
