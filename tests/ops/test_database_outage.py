"""The database going away under a running server: 503s within the pool timeout, then recovery.

The live tests run uvicorn in a subprocess against a database of their own: a throwaway
PostgreSQL server (scripts/pg) they stop and start again, or a port that accepts connections
and never answers (a hung server, a black-holed network). The server runs with DEBUG on, where
an unmapped error shows as a traceback 500, and with SECURE_SSL_REDIRECT on behind a trusted
proxy (DJANGO_TRUSTED_PROXIES=127.0.0.1), as production runs; API requests say they came over
HTTPS, the probes do not.

The first tests check the mapping itself in process, for every error the database layer raises.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path
from psycopg_pool import PoolTimeout

from tests.servers import PROJECT, SEED, Reply, UvicornProcess, manage, poll, request

POOL_TIMEOUT = 2.0
# Room for a loaded CI machine on top of the pool timeout; far below psycopg's 30 s or 130 s.
MARGIN = 3.0
RECOVERY_DEADLINE = 60
UNAVAILABLE = {
    "detail": "The database is unavailable; try again shortly.",
    "code": "database_unavailable",
}
PREFIXES = {
    "drf": "/api/drf/",
    "ninja": "/api/ninja/",
    "plain-async": "/api/plain/async/",
    "plain-sync": "/api/plain/sync/",
}
FULL_STYLES = ["drf", "ninja"]


# --- The mapping, in process -------------------------------------------------------------------

ERRORS: dict[str, Exception] = {
    "django-operational-error": OperationalError("server closed the connection unexpectedly"),
    "django-interface-error": InterfaceError("connection already closed"),
    "psycopg-pool-timeout": PoolTimeout("couldn't get a connection after 2.00 sec"),
    "psycopg-operational-error": psycopg.OperationalError("connection refused"),
}


def failing_view(request: HttpRequest, error: str) -> HttpResponse:
    raise ERRORS[error]


urlpatterns = [
    path("api/failing/<str:error>", failing_view),
    path("failing/<str:error>", failing_view),
]


@pytest.mark.urls(__name__)
class TestADatabaseErrorRaisedByAView:
    @pytest.mark.parametrize("error", ERRORS)
    def test_is_a_503_json_under_api(self, client, error):
        response = client.get(f"/api/failing/{error}")
        assert response.status_code == 503
        assert response.json() == UNAVAILABLE
        assert int(response["Retry-After"]) > 0

    @pytest.mark.parametrize("error", ERRORS)
    def test_is_the_503_page_elsewhere(self, client, error):
        response = client.get(f"/failing/{error}")
        assert response.status_code == 503
        assert response["Content-Type"].startswith("text/html")
        assert "temporarily unavailable" in response.text
        assert int(response["Retry-After"]) > 0


class FailingMiddleware:
    """Raises like the session middleware saving a session while the database is down."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        self.get_response(request)
        raise ERRORS["django-operational-error"]


class TestADatabaseErrorRaisedByAMiddlewareUnderWSGI:
    """Django hands a middleware's error to no middleware; its 500 handler sees it (sync only)."""

    def test_is_a_503_json_under_api(self, settings):
        settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}.FailingMiddleware"]
        response = Client(raise_request_exception=False).get("/api/plain/sync/users/")
        assert response.status_code == 503
        assert response.json() == UNAVAILABLE

    def test_is_the_503_page_elsewhere(self, settings):
        settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}.FailingMiddleware"]
        response = Client(raise_request_exception=False).get("/login/")
        assert response.status_code == 503
        assert "temporarily unavailable" in response.text


# --- Live servers ------------------------------------------------------------------------------


@dataclass
class Seed:
    """What the live tests need in the server's database (nothing when it never answers)."""

    user: int = 1
    product: int = 1
    token: str = "no-such-token"
    session: str = "no-such-session"
    email: str = "nobody@example.com"
    order: int = 1


def server_env(database_url: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    throttles = ["ANON", "USER", "SIGNUP", "TOKEN", "ORDERS"]
    return {
        **env,
        **{f"API_THROTTLE_{name}": "100000/min" for name in throttles},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url,
        "DB_POOL_TIMEOUT": str(POOL_TIMEOUT),
        "DJANGO_DEBUG": "1",
        "DJANGO_SECURE_SSL_REDIRECT": "1",
        "DJANGO_TRUSTED_PROXIES": "127.0.0.1",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    }


class LiveClient:
    """Requests to one live server: the API as a client over HTTPS (via the proxy header)."""

    def __init__(self, port: int, seed: Seed) -> None:
        self.port = port
        self.seed = seed
        self.emails = 0

    def api(self, method: str, url: str, body: Any = None, **headers: str) -> Reply:
        headers = {"X-Forwarded-Proto": "https", **headers}
        if body is not None:
            headers["Content-Type"] = "application/json"
        return request(
            self.port, method, url, body=None if body is None else json.dumps(body), headers=headers
        )

    def user_orders(self, style: str) -> Reply:
        url = f"{PREFIXES[style]}users/{self.seed.user}/orders"
        return self.api("GET", url, Authorization=f"Bearer {self.seed.token}")

    def place_order(self, style: str) -> Reply:
        lines = [{"product_id": self.seed.product, "quantity": 1}]
        url = f"{PREFIXES[style]}orders/"
        return self.api("POST", url, {"lines": lines}, Authorization=f"Bearer {self.seed.token}")

    def sign_up(self, style: str) -> Reply:
        self.emails += 1
        body = {
            "email": f"{style}-{self.emails}@example.com",
            "name": "Ada",
            "age": 36,
            "password": "correct horse battery staple",
        }
        return self.api("POST", f"{PREFIXES[style]}users/", body)

    def page(self) -> Reply:
        cookie = f"sessionid={self.seed.session}"
        return self.api("GET", "/orders/", Cookie=cookie)

    def probe(self, path: str) -> Reply:
        return request(self.port, "GET", path)  # plain HTTP, as a load balancer probes

    def everything(self) -> dict[str, Reply]:
        """Each style's GET and POSTs, a page and the probes, all at once (each one timed)."""
        calls: dict[str, Callable[[], Reply]] = {"page": self.page}
        for style in PREFIXES:
            calls[f"{style} GET users/{{id}}/orders"] = partial(self.user_orders, style)
            calls[f"{style} POST users/"] = partial(self.sign_up, style)
        for style in FULL_STYLES:
            calls[f"{style} POST orders/"] = partial(self.place_order, style)
        calls["/healthz"] = partial(self.probe, "/healthz")
        calls["/readyz"] = partial(self.probe, "/readyz")
        with ThreadPoolExecutor(len(calls)) as pool:
            futures = {name: pool.submit(call) for name, call in calls.items()}
        return {name: future.result() for name, future in futures.items()}


def assert_unavailable(replies: dict[str, Reply]) -> None:
    for name, reply in replies.items():
        assert reply.seconds < POOL_TIMEOUT + MARGIN, f"{name} took {reply.seconds:.1f} s"
        if name == "/healthz":
            assert (reply.status, reply.json()) == (200, {"status": "ok"}), name
        elif name == "/readyz":
            assert reply.status == 503, name
            assert reply.json()["checks"] == {"database": "unavailable"}
        elif name == "page":
            assert reply.status == 503, reply.body[:500]
            assert reply.content_type.startswith("text/html")
            assert b"temporarily unavailable" in reply.body
            assert b"Traceback" not in reply.body
        else:
            assert reply.status == 503, f"{name}: {reply.status} {reply.body[:500]!r}"
            assert reply.json() == UNAVAILABLE, name
            assert int(reply.headers["retry-after"]) > 0, name


def latencies(replies: dict[str, Reply]) -> dict[str, float]:
    return {name: round(reply.seconds, 3) for name, reply in replies.items()}


class TestADatabaseThatNeverAnswers:
    """A port that accepts connections and says nothing: no request waits for TCP to give up."""

    @pytest.fixture
    def silent_port(self) -> Iterator[int]:
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen(1)  # the kernel completes handshakes; nobody ever reads
            yield int(listener.getsockname()[1])

    def test_gets_every_request_a_503_within_the_pool_timeout(
        self, silent_port, tmp_path, record_property
    ):
        url = f"postgres://postgres@127.0.0.1:{silent_port}/orderdesk"
        server = UvicornProcess.start(server_env(url), tmp_path / "uvicorn.log")
        try:
            replies = LiveClient(server.port, Seed()).everything()
            record_property("503 seconds", latencies(replies))
            assert_unavailable(replies)
        finally:
            server.stop()


# --- A real PostgreSQL server, stopped and started again ---------------------------------------


@dataclass
class ThrowawayPostgres:
    """scripts/pg with a PGTMP of its own: never the developer's or CI's server."""

    pgtmp: Path
    url: str = ""

    def pg(self, command: str) -> str:
        result = subprocess.run(  # noqa: S603 (a fixed command line)
            [str(PROJECT / "scripts" / "pg"), command],
            env={**os.environ, "PGTMP": str(self.pgtmp)},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"scripts/pg {command} failed:\n{result.stderr}")
        return result.stdout.strip()

    def manage(self, *args: str) -> str:
        return manage(server_env(self.url), *args)


@pytest.fixture
def postgres() -> Iterator[ThrowawayPostgres]:
    if shutil.which("pg_ctl") is None and not list(Path("/usr/lib/postgresql").glob("*/bin")):
        pytest.skip("needs the PostgreSQL server binaries (apt-get install postgresql)")
    # Not under tmp_path: pytest keeps that private to this user, and as root the server runs
    # as the postgres user, who must reach its data directory (as .ci/run does).
    root = Path(tempfile.mkdtemp(prefix="orderdesk-outage-"))
    root.chmod(0o755)
    server = ThrowawayPostgres(pgtmp=root / "pg")
    try:
        server.url = server.pg("start")
        server.manage("migrate", "--noinput", "-v", "0")
        yield server
    finally:
        server.pg("stop")
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (set DATABASE_URL)")
class TestAPostgreSQLOutage:
    def test_answers_503_in_every_style_while_down_and_recovers_without_a_restart(
        self, postgres, tmp_path, record_property
    ):
        seed = Seed(**json.loads(postgres.manage("shell", "-c", SEED).splitlines()[-1]))
        server = UvicornProcess.start(server_env(postgres.url), tmp_path / "uvicorn.log")
        client = LiveClient(server.port, seed)
        try:
            self.check_serving(client)

            postgres.pg("pause")
            down = client.everything()
            record_property("503 seconds", latencies(down))
            assert_unavailable(down)

            postgres.pg("resume")
            recovery = poll(lambda: self.all_answer(client), timeout=RECOVERY_DEADLINE)
            record_property("recovery seconds", round(recovery, 3))
            self.check_serving(client)
            assert server.process.poll() is None, "the server restarted"
        except Exception:
            print(server.output(), file=sys.stderr)  # noqa: T201 (shown when the test fails)
            raise
        finally:
            server.stop()

    @staticmethod
    def all_answer(client: LiveClient) -> bool:
        return all(client.user_orders(style).status == 200 for style in PREFIXES)

    @staticmethod
    def check_serving(client: LiveClient) -> None:
        for style in PREFIXES:
            assert client.user_orders(style).status == 200, style
            assert client.sign_up(style).status == 201, style
        for style in FULL_STYLES:
            assert client.place_order(style).status == 201, style
        assert client.page().status == 200
        assert client.probe("/readyz").json() == {"status": "ok", "checks": {"database": "ok"}}
        # The probes are exempt from the HTTPS redirect; everything else is redirected.
        assert client.probe("/healthz").status == 200
        assert request(client.port, "GET", "/orders/").status == 301
