"""The ASGI path (config.asgi, runtime.handlers, runtime.middleware): faster, and still Django.

Requests go through `config.asgi.application` itself, as an ASGI server would call it.
"""

import asyncio
import gc
import json
import threading
import weakref
from collections.abc import Iterator
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode

import pytest
from asgiref.sync import sync_to_async
from django.contrib.sessions.backends import db
from django.core import signals
from django.db import OperationalError, close_old_connections, connection, reset_queries
from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.asgi import application
from orders.factories import DEFAULT_PASSWORD, UserFactory
from runtime.handlers import ASGIHandler
from users.models import User


def http_scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    """The ASGI scope of one HTTP/1.1 request from a local client."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }


async def call(
    method: str,
    path: str,
    *,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    cookies: SimpleCookie | None = None,
    app: Any = application,
) -> tuple[int, dict[str, str], SimpleCookie, bytes]:
    """One HTTP request through the ASGI application: status, headers, cookies set, body."""
    raw_headers = [(b"host", b"127.0.0.1")]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    if cookies:
        jar = "; ".join(f"{name}={morsel.value}" for name, morsel in cookies.items())
        raw_headers.append((b"cookie", jar.encode()))
    scope = http_scope(method, path, raw_headers)
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    disconnected = asyncio.Event()
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await disconnected.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = sent[0]
    response_headers: dict[str, str] = {}
    set_cookies = SimpleCookie()
    for name, value in start["headers"]:
        if name.lower() == b"set-cookie":
            set_cookies.load(value.decode())
        else:
            response_headers[name.decode().lower()] = value.decode()
    content = b"".join(message.get("body", b"") for message in sent[1:])
    return start["status"], response_headers, set_cookies, content


@pytest.fixture
def finished_in() -> Iterator[list[int]]:
    """The thread each `request_finished` ran in, in order."""
    threads: list[int] = []

    def record(**kwargs: Any) -> None:
        threads.append(threading.get_ident())

    signals.request_finished.connect(record)
    yield threads
    signals.request_finished.disconnect(record)


class TestRequestThreads:
    @pytest.mark.django_db
    async def test_sync_code_of_one_request_after_another_runs_on_one_reused_thread(
        self, finished_in: list[int]
    ) -> None:
        for _ in range(3):
            status, *_ = await call("GET", "/api/drf/orders/")  # a sync DRF view: 401
            assert status == 401
        assert len(finished_in) == 3
        assert len(set(finished_in)) == 1
        assert finished_in[0] != threading.get_ident()

    async def test_a_response_of_async_code_alone_is_closed_on_the_event_loop(
        self, finished_in: list[int]
    ) -> None:
        # config.asgi takes these off request_started; Django's test client puts them back
        # after each of its requests, and any earlier test may have used it.
        signals.request_started.disconnect(close_old_connections)
        signals.request_started.disconnect(reset_queries)
        # The plain async view answers an anonymous client without touching the database.
        status, _, _, body = await call("GET", "/api/plain/async/users/1/orders")
        assert (status, b"credentials" in body) == (401, True)
        assert finished_in == [threading.get_ident()]


@pytest.mark.django_db(transaction=True)  # the request thread uses a connection of its own
class TestDebugQueries:
    async def test_each_request_on_a_reused_thread_sees_only_its_own_queries(
        self, settings: Any, finished_in: list[int]
    ) -> None:
        settings.DEBUG = True
        settings.ROOT_URLCONF = "tests.test_asgi"
        # As config.asgi leaves request_started (Django's test client reconnects its own).
        signals.request_started.disconnect(close_old_connections)
        signals.request_started.disconnect(reset_queries)
        bodies = [(await call("GET", "/counts"))[3] for _ in range(3)]
        assert len(set(finished_in)) == 1  # one reused request thread
        assert bodies == [b"1", b"1", b"1"]


def make_user() -> User:
    """A user, committed; the worker thread's connection closed, so nothing holds the test DB."""
    try:
        return UserFactory.create()
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)  # request threads use connections of their own
class TestBrowserSessionsUnderAsgi:
    async def test_a_login_saves_the_session_and_the_next_page_knows_the_user(self) -> None:
        user = await sync_to_async(make_user)()
        status, _, cookies, _ = await call("GET", "/login/")
        assert status == 200
        token = cookies["csrftoken"].value
        form = urlencode({"username": user.email, "password": DEFAULT_PASSWORD})
        status, headers, session, _ = await call(
            "POST",
            "/login/",
            body=form.encode(),
            headers={
                "content-type": "application/x-www-form-urlencoded",
                "x-csrftoken": token,
            },
            cookies=cookies,
        )
        assert status == 302, headers
        assert "sessionid" in session
        status, _, _, page = await call("GET", "/orders/", cookies=session)
        assert status == 200
        assert user.email.encode() in page

    async def test_a_form_post_without_its_csrf_token_is_refused(self) -> None:
        form = urlencode({"username": "a@example.com", "password": "x"})
        status, *_ = await call(
            "POST",
            "/login/",
            body=form.encode(),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert status == 403


# --- Disconnects, and what a request leaves behind (runtime.handlers, 3.) ------------------------

view_events: list[str] = []
request_refs: list[weakref.ref[HttpRequest]] = []
view_started = asyncio.Event()


async def waits_for_ever(request: HttpRequest) -> HttpResponse:
    view_events.append("started")
    view_started.set()
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        view_events.append("cancelled")
        raise
    return HttpResponse()  # pragma: no cover (never reached)


async def answers_at_once(request: HttpRequest) -> HttpResponse:
    request_refs.append(weakref.ref(request))
    await asyncio.sleep(0)
    return HttpResponse(b"ok")


async def remembers(request: HttpRequest) -> HttpResponse:
    request.session["seen"] = True  # saved by the session middleware after the view
    return HttpResponse(b"ok")


class SessionStore(db.SessionStore):
    """Sessions whose database is down (`SESSION_ENGINE = "tests.test_asgi"`)."""

    def save(self, must_create: bool = False) -> None:
        raise OperationalError("connection to server failed: the database is down")


def counts_queries(request: HttpRequest) -> HttpResponse:
    """A sync view: one query, then how many `connection.queries` holds."""
    User.objects.count()
    return HttpResponse(str(len(connection.queries)).encode())


urlpatterns = [
    path("counts", counts_queries),
    path("waits", waits_for_ever),
    path("answers", answers_at_once),
    path("remembers", remembers),
    path("api/remembers", remembers),
]


@pytest.mark.django_db  # request_finished's receivers look at the connection
class TestRequestLifetime:
    @pytest.fixture(autouse=True)
    def fresh(self, settings: Any) -> None:
        settings.ROOT_URLCONF = "tests.test_asgi"  # the two views above
        view_events.clear()
        request_refs.clear()
        view_started.clear()

    async def test_a_client_that_disconnects_cancels_the_view(self, finished_in: list[int]) -> None:
        messages = [{"type": "http.request", "body": b"", "more_body": False}]
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            if messages:
                return messages.pop()
            await view_started.wait()  # the client leaves while the view waits
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await asyncio.wait_for(
            application(http_scope("GET", "/waits", [(b"host", b"127.0.0.1")]), receive, send),
            timeout=10,
        )
        assert view_events == ["started", "cancelled"]
        assert sent == []  # nobody to answer
        assert len(finished_in) == 1  # request_finished still sent
        task = asyncio.current_task()
        assert task is not None
        assert task.cancelling() == 0  # the handler's own cancellation was taken back

    async def test_a_cancellation_from_outside_still_ends_the_request(self) -> None:
        messages = [{"type": "http.request", "body": b"", "more_body": False}]

        async def receive() -> dict[str, Any]:
            if messages:
                return messages.pop()
            await asyncio.Event().wait()  # the client stays
            return {}  # pragma: no cover

        async def send(message: dict[str, Any]) -> None:
            pass  # pragma: no cover

        serving = asyncio.create_task(
            application(http_scope("GET", "/waits", [(b"host", b"127.0.0.1")]), receive, send)
        )
        await view_started.wait()
        serving.cancel()  # a server shutting down
        with pytest.raises(asyncio.CancelledError):
            await serving
        assert view_events == ["started", "cancelled"]

    async def test_a_request_is_freed_when_it_ends_without_the_collector(self) -> None:
        gc.disable()  # no collection may free it in between: reference counting must
        try:
            status, _, _, body = await call("GET", "/answers")
            assert (status, body) == (200, b"ok")
            assert len(request_refs) == 1
            assert request_refs[0]() is None
        finally:
            gc.enable()


@pytest.mark.django_db  # request_finished's receivers look at the connection
class TestASessionSavedWhileTheDatabaseIsDown:
    """Saved by the session middleware after the view: a 503, as under WSGI, not a 500."""

    @pytest.fixture
    def app(self, settings: Any) -> ASGIHandler:
        """A handler made now: the session middleware reads SESSION_ENGINE when it is made."""
        settings.ROOT_URLCONF = "tests.test_asgi"
        settings.SESSION_ENGINE = "tests.test_asgi"
        return ASGIHandler()

    async def test_is_a_503_json_under_api(self, app: ASGIHandler) -> None:
        status, headers, cookies, body = await call("GET", "/api/remembers", app=app)
        assert status == 503
        assert json.loads(body)["code"] == "database_unavailable"
        assert int(headers["retry-after"]) > 0
        assert "sessionid" not in cookies

    async def test_is_the_503_page_elsewhere(self, app: ASGIHandler) -> None:
        status, _, _, body = await call("GET", "/remembers", app=app)
        assert status == 503
        assert b"temporarily unavailable" in body
