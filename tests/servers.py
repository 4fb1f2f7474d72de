"""Real servers on loopback for the tests that need one, and a timed HTTP client for them.

`serve_in_thread` runs an ASGI application under uvicorn in a thread of the test process: it
shares the test database (SQLite's in-memory one included) and the channel layer.
`UvicornProcess` runs config.asgi in a process of its own, configured by environment variables;
`spawn_live`/`live_server` point one at the test database (PostgreSQL: another process cannot
see this one's in-memory SQLite). `production_site` runs the README's production command, debug
off and static files collected, on a database of its own.
"""

import http.client
import json
import os
import re
import secrets
import shlex
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
import uvicorn
from django.db import connection

PROJECT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
# Starting Django in a fresh interpreter takes a second or two; a loaded CI machine, longer.
STARTUP_TIMEOUT = 60
# No request of these tests may take this long: a hang fails instead of blocking the run.
REQUEST_TIMEOUT = 30
STOP_TIMEOUT = 10

REDIS_URL = os.environ.get("REDIS_URL")
# Server processes sharing PostgreSQL (the test database) and Redis, as several workers do.
LIVE_POSTGRES_AND_REDIS = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL (set DATABASE_URL)"
    ),
    pytest.mark.skipif(not REDIS_URL, reason="needs a Redis server: set REDIS_URL (CI does)"),
    pytest.mark.django_db(transaction=True),
]
# Tests whose commits another connection must see: a second process or thread on the test
# database (PostgreSQL: none can see SQLite's in-memory one), or PostgreSQL's own behaviour.
LIVE_POSTGRES = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL (set DATABASE_URL)"
    ),
    pytest.mark.django_db(transaction=True),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def database_url() -> str:
    """DATABASE_URL of the database this test runs on (pytest-django's test database)."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or HOST
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}@{host}{port}/{quote(db['NAME'], safe='')}"


# --- HTTP ---------------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


def request(
    port: int,
    method: str,
    path: str,
    *,
    body: bytes | str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = REQUEST_TIMEOUT,
) -> Reply:
    """One timed HTTP/1.1 request to 127.0.0.1:`port`; no status raises, no redirect is followed."""
    if isinstance(body, str):
        body = body.encode()
    client = http.client.HTTPConnection(HOST, port, timeout=timeout)
    started = time.monotonic()
    try:
        client.request(method, path, body=body, headers=headers or {})
        response = client.getresponse()
        data = response.read()
    finally:
        client.close()
    return Reply(
        status=response.status,
        headers={name.lower(): value for name, value in response.getheaders()},
        body=data,
        seconds=time.monotonic() - started,
    )


def poll(check: Callable[[], bool], *, timeout: float, interval: float = 0.1) -> float:
    """Seconds until `check()` is true; raises TimeoutError after `timeout` seconds.

    For waiting on something outside the test (a server starting, a database coming back),
    which signals nothing the test could wait on.
    """
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"not true after {timeout} s")
        time.sleep(interval)
    return time.monotonic() - started


def answers_http(port: int) -> bool:
    """Whether anything answers HTTP on the port (any status means it is serving)."""
    try:
        request(port, "GET", "/healthz", timeout=2)
    except OSError:
        return False
    return True


# --- In a thread of the test process -----------------------------------------------------------


class _ThreadedServer(uvicorn.Server):
    """A uvicorn server that says when it listens. Off the main thread it leaves signals alone."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()


@contextmanager
def serve_in_thread(application: Callable[..., Any] | None = None) -> Iterator[int]:
    """`application` (config.asgi's by default) on a free port in this process; yields the port."""
    if application is None:
        from config.asgi import application as project  # noqa: PLC0415 (after Django's setup)

        application = project

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((HOST, 0))
    port = int(listener.getsockname()[1])
    server = _ThreadedServer(uvicorn.Config(application, lifespan="off", log_level="warning"))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, name="test-uvicorn", daemon=True
    )
    thread.start()
    try:
        if not server.ready.wait(STARTUP_TIMEOUT):
            raise TimeoutError(f"the test server did not start within {STARTUP_TIMEOUT} s")
        yield port
    finally:
        server.should_exit = True
        thread.join(STARTUP_TIMEOUT)
        listener.close()


# --- In a process of its own -------------------------------------------------------------------


def readme_production_arguments() -> list[str]:
    """uvicorn's arguments in the README's production command, as an operator copies them."""
    readme = (PROJECT / "README.md").read_text()
    match = re.search(r"^ *\.venv/bin/uvicorn (config\.asgi:application .*)$", readme, re.MULTILINE)
    assert match is not None, "README.md has no `.venv/bin/uvicorn config.asgi:application` line"
    return shlex.split(match[1])


def _set_options(arguments: list[str], values: dict[str, str]) -> list[str]:
    """`arguments` with the value of each option in `values` replaced (or added)."""
    result = list(arguments)
    for option, value in values.items():
        if option in result:
            result[result.index(option) + 1] = value
        else:
            result += [option, value]
    return result


@dataclass
class UvicornProcess:
    """`uvicorn config.asgi:application` in a subprocess, its output in `log`."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path
    # Tags the server's database connections in pg_stat_activity, when set.
    application_name: str = ""

    @classmethod
    def spawn(
        cls,
        env: dict[str, str],
        log: Path,
        *,
        application_name: str = "",
        application: str = "config.asgi:application",
        production: bool = False,
        port: int | None = None,
    ) -> "UvicornProcess":
        """Launch `application` with exactly `env` (on `port`, else a free one); not serving yet
        (see `wait_until_serving`).

        `production` runs the README's production command instead, on that port, one worker.
        """
        port = port or free_port()
        if production:
            arguments = _set_options(
                readme_production_arguments(), {"--host": HOST, "--port": str(port)}
            )
            arguments = _set_options(arguments, {"--workers": "1"})
        else:
            arguments = [
                *(application, "--host", HOST, "--port", str(port)),
                *("--lifespan", "off", "--no-access-log", "--no-proxy-headers"),
            ]
        with log.open("wb") as out:
            process = subprocess.Popen(  # noqa: S603 (a fixed command line)
                [sys.executable, "-m", "uvicorn", *arguments],
                cwd=PROJECT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return cls(process=process, port=port, log=log, application_name=application_name)

    @classmethod
    def start(cls, env: dict[str, str], log: Path) -> "UvicornProcess":
        """Launch it and wait until it answers HTTP."""
        server = cls.spawn(env, log)
        server.wait_until_serving()
        return server

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def serving(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"uvicorn exited:\n{self.output()}")
        return answers_http(self.port)

    def wait_until_serving(self) -> None:
        try:
            poll(self.serving, timeout=STARTUP_TIMEOUT)
        except TimeoutError:
            self.stop()
            raise RuntimeError(f"uvicorn did not answer:\n{self.output()}") from None

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT)


# What the README's production command needs set, for a server on loopback.
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
}


def inherited_env() -> dict[str, str]:
    """The runner's environment without the variables that configure orderdesk."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "DB_POOL_", "API_THROTTLE_", "REDIS_"))
    }


def spawn_live(
    log_dir: Path, *, application: str = "config.asgi:application", **env: str
) -> UvicornProcess:
    """A UvicornProcess on the test database, its connections tagged; not serving yet.

    Debug on, throttles out of the way (these tests measure behaviour, not rate limits); the
    runner's DJANGO_, DATABASE_, DB_POOL_, API_THROTTLE_ and REDIS_ variables are not inherited.
    `env` adds or overrides variables.
    """
    return _spawn_on_test_database(log_dir, env, application=application, production=False)


def live_env(name: str, env: dict[str, str], *, production: bool = False) -> dict[str, str]:
    """The environment of a server process on the test database (see `spawn_live`)."""
    return {
        **inherited_env(),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"{database_url()}?application_name={name}",
        "DJANGO_DEBUG": "1",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "API_THROTTLE_USER": "1000000/min",
        "API_THROTTLE_ORDERS": "1000000/min",
        "API_THROTTLE_LOGIN": "1000000/min",
        **(PRODUCTION_ENV if production else {}),
        **env,
    }


def _spawn_on_test_database(
    log_dir: Path, env: dict[str, str], *, application: str, production: bool
) -> UvicornProcess:
    name = f"orderdesk-test-{uuid.uuid4().hex[:12]}"
    server_env = live_env(name, env, production=production)
    log = log_dir / f"{name}.log"
    return UvicornProcess.spawn(
        server_env, log, application_name=name, application=application, production=production
    )


@contextmanager
def _serving(server: UvicornProcess) -> Iterator[UvicornProcess]:
    try:
        server.wait_until_serving()
        yield server
    finally:
        server.stop()


def live_server(
    log_dir: Path, *, application: str = "config.asgi:application", **env: str
) -> AbstractContextManager[UvicornProcess]:
    """`spawn_live`, serving; stopped afterwards (before pytest-django flushes the database)."""
    return _serving(spawn_live(log_dir, application=application, **env))


def production_server(log_dir: Path, **env: str) -> AbstractContextManager[UvicornProcess]:
    """`live_server` running the README's production command (debug off, one worker) on the
    test database; `production_site` runs the README's whole production steps on its own."""
    return _serving(
        _spawn_on_test_database(
            log_dir, env, application="config.asgi:application", production=True
        )
    )


def post_json(
    base: str,
    path: str,
    body: Any,
    *,
    token: str,
    key: str | None = None,
    timeout: float = REQUEST_TIMEOUT,
) -> tuple[int, Any]:
    """POST `body` as JSON to the server at URL `base`; the status and the decoded answer."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if key is not None:
        headers["Idempotency-Key"] = key
    port = urlsplit(base).port or 80
    reply = request(port, "POST", path, body=json.dumps(body), headers=headers, timeout=timeout)
    try:
        return reply.status, reply.json()
    except ValueError:
        return reply.status, {"unparsed": reply.body.decode(errors="replace")[:2000]}


# --- Servers on a database of their own --------------------------------------------------------

# What a live server's database of its own needs: a customer with an order (pending), a product
# in stock, the customer's API token and logged-in session. Run by `manage.py shell -c`; its last
# line is the JSON.
SEED = """
import json
from django.conf import settings
from django.test import Client
from orders.factories import OrderFactory, ProductFactory, UserFactory
from users.services import token_issue
user = UserFactory.create()
product = ProductFactory.create(stock=1000)
order = OrderFactory.create(customer=user)
client = Client()
client.force_login(user)
print(json.dumps({
    "user": user.pk,
    "email": user.email,
    "product": product.pk,
    "order": order.pk,
    "token": token_issue(user=user),
    "session": client.cookies[settings.SESSION_COOKIE_NAME].value,
}))
"""


def manage(env: dict[str, str], *args: str) -> str:
    """`manage.py ARGS` with exactly `env`; its standard output. Raises when it fails."""
    result = subprocess.run(  # noqa: S603 (a fixed command line)
        [sys.executable, "manage.py", *args],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {args[0]} failed:\n{result.stderr}")
    return result.stdout


# --- The README's production command ------------------------------------------------------------


@dataclass
class ProductionSite:
    """The production server (`production_site`), what it was seeded with and its static files."""

    server: UvicornProcess
    static_root: Path
    seed: dict[str, Any]

    @property
    def url(self) -> str:
        return self.server.url

    def get(self, path: str, **headers: str) -> Reply:
        """A GET as its TLS-terminating proxy passes one on (`X-Forwarded-Proto: https`)."""
        return request(
            self.server.port, "GET", path, headers={"X-Forwarded-Proto": "https", **headers}
        )


@contextmanager
def production_site(root: Path) -> Iterator[ProductionSite]:
    """The README's production steps in `root`: `collectstatic --noinput`, then uvicorn serving
    config.asgi with debug off, a real secret key and named hosts, on a SQLite database of its
    own (migrated and seeded with SEED); stopped afterwards.

    Production's defaults hold (HTTPS redirect, secure cookies, HSTS): the server sits behind a
    TLS proxy on the same host (`DJANGO_TRUSTED_PROXIES=127.0.0.1`), so a request must say it
    came over HTTPS (`ProductionSite.get`). A browser here reaches the worker itself, over HTTP:
    its origin is the one the forms and the socket accept.
    """
    port = free_port()
    origin = f"http://{HOST}:{port}"
    env = {
        **inherited_env(),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        **PRODUCTION_ENV,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": f"sqlite:///{root / 'db.sqlite3'}",
        "DJANGO_STATIC_ROOT": str(root / "static"),
        "DJANGO_TRUSTED_PROXIES": HOST,
        "DJANGO_CSRF_TRUSTED_ORIGINS": origin,
        "DJANGO_WEBSOCKET_ORIGINS": origin,
    }
    manage(env, "collectstatic", "--noinput", "-v", "0")
    manage(env, "migrate", "--noinput", "-v", "0")
    seed = json.loads(manage(env, "shell", "-c", SEED).splitlines()[-1])
    server = UvicornProcess.spawn(env, root / "uvicorn.log", port=port, production=True)
    with _serving(server):
        yield ProductionSite(server=server, static_root=root / "static", seed=seed)


@contextmanager
def task_worker(log_dir: Path, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    """`manage.py db_worker` (django-tasks-db's worker, as the README runs it) on the test
    database, polling every 0.1 s; stopped afterwards, as an operator stops it (SIGTERM)."""
    name = f"orderdesk-worker-{uuid.uuid4().hex[:12]}"
    log = log_dir / f"{name}.log"
    arguments = ["db_worker", "--no-reload", "--interval", "0.1", "--no-startup-delay"]
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 (a fixed command line)
            [sys.executable, "manage.py", *arguments],
            cwd=PROJECT,
            env=live_env(name, env),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)
