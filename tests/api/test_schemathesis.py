"""Property-based tests: schemathesis drives both OpenAPI schemas with generated requests.

Two kinds of run, each on DRF's and on ninja's schema, sent through Django's WSGI handler
in-process (the ninja operations are async; Django runs them) as a staff member with a bearer
token. Schemathesis' default checks apply to every response: no server errors, and status
codes, content types, headers and bodies that match what the schema documents.

- Per operation: `SCHEMATHESIS_EXAMPLES` generated requests each (100 by default; CI's long
  run sets 1000), valid and invalid ones, plus schemathesis' coverage cases.
- Stateful: `SCHEMATHESIS_SCENARIOS` scenarios (as many as examples by default), each a chain
  of up to six linked calls (place an order, then read it, then move it; create a product, then
  change it, then order it) that feeds one response's ids into the next request, so generated
  requests reach real objects instead of 404s. The links come from schemathesis' own inference
  over the response schemas (checked below); the schemas declare none.
"""

import contextvars
import functools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import ignored_auth

from orders.factories import OrderFactory, ProductFactory, StaffFactory
from users.models import User
from users.services import token_issue
from users.validators import is_unicode_text

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "100"))
SCENARIOS = int(os.environ.get("SCHEMATHESIS_SCENARIOS", str(EXAMPLES)))
HYPOTHESIS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
STATEFUL = settings(
    max_examples=SCENARIOS,
    stateful_step_count=6,  # calls per scenario at most (schemathesis' default)
    phases=[Phase.generate],
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


@dataclass(frozen=True)
class StaffAuth:
    """A staff member's bearer token for every generated call but those that revoke it."""

    staff: User
    authorization: str

    def for_case(self, case: Any) -> str:
        """`DELETE auth/token` revokes the token it is sent with: it gets a token of its own
        (another client name, so the run's token is not replaced), and every later call of
        the run keeps the shared one."""
        if case.operation.method.upper() == "DELETE" and "/auth/token" in case.operation.path:
            return f"Bearer {token_issue(user=self.staff, client='revoked-by-the-fuzzer')}"
        return self.authorization

    def headers(self, case: Any) -> dict[str, str]:
        return {"Authorization": self.for_case(case)}


@pytest.fixture
def staff_auth(django_settings: Any) -> Iterator[StaffAuth]:
    """A staff token, some data to find, and throttles out of the way of generated traffic."""
    staff = StaffFactory.create()
    product = ProductFactory.create(stock=1000)
    OrderFactory.create_batch(3, lines=[(product, 1)])
    yield StaffAuth(staff, f"Bearer {token_issue(user=staff)}")
    cache.clear()


@pytest.fixture
def django_settings(settings: Any) -> Any:
    settings.API_THROTTLE_RATES = dict.fromkeys(settings.API_THROTTLE_RATES, "100000/min")
    cache.clear()
    return settings


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Iterator[None]:
    """Serve requests as Django's test client does: without closing the test's connection.

    Django's WSGI handler closes database connections when a request starts and finishes; on
    PostgreSQL that would end the transaction this test runs in. The test client avoids it the
    same way, by disconnecting the handler for the duration.
    """
    # Reconnected only where it was connected: runtime.handlers takes it off request_started.
    started = request_started.disconnect(close_old_connections)
    finished = request_finished.disconnect(close_old_connections)
    yield
    if started:
        request_started.connect(close_old_connections)
    if finished:
        request_finished.connect(close_old_connections)


SCHEMA_URLS = {"drf": "/api/drf/schema/", "ninja": "/api/ninja/openapi.json"}


def load_schema(style: str, *, surrogates: bool = False) -> Any:
    """The style's schema; with `surrogates`, its bodies sometimes hold lone surrogates.

    Only the per-operation runs spoil bodies: in the stateful run a body carries ids from
    earlier responses, so a strategy built from it would differ when Hypothesis replays a
    scenario (FlakyStrategyDefinition).
    """
    schema = schemathesis.openapi.from_wsgi(SCHEMA_URLS[style], in_own_context)
    if surrogates:
        schema.hook(flatmap_body)
    return schema


# Lone UTF-16 surrogates: valid in a JSON string (`"\\ud800"`), no text UTF-8 can store.
LONE_SURROGATES = ["\ud800", "a\udfffb", "\udc00\ud800"]


def with_lone_surrogates(body: Any) -> st.SearchStrategy[Any]:
    """`body` as drawn, or with one of its strings replaced by one holding a lone surrogate.

    Hypothesis never draws surrogates into text, so without this the fuzz run would not send
    what found issue 14's 500s; the API must refuse them with a 400/422 naming the field.
    """
    strings = (
        [key for key, value in body.items() if isinstance(value, str)]
        if isinstance(body, dict)
        else []
    )
    if not strings:
        return st.just(body)
    spoiled = st.tuples(st.sampled_from(strings), st.sampled_from(LONE_SURROGATES)).map(
        lambda pair: {**body, pair[0]: pair[1]}
    )
    return st.one_of(st.just(body), spoiled)


def flatmap_body(context: Any, body: Any) -> st.SearchStrategy[Any]:
    """Schemathesis' hook on every generated body: `with_lone_surrogates`."""
    return with_lone_surrogates(body)


def test_the_fuzz_run_sends_lone_surrogates() -> None:
    found = find(with_lone_surrogates({"sku": "A-1", "stock": 3}), lambda b: b["sku"] != "A-1")

    assert found["sku"] in LONE_SURROGATES
    assert not is_unicode_text(found["sku"])
    assert found["stock"] == 3


def in_own_context(environ: dict[str, Any], start_response: Any) -> Any:
    """Django's WSGI application, each request in a copy of the context, as ASGI serves it.

    Under WSGI a context variable an async view sets comes back into the caller's context
    (`async_to_sync` copies it there), so in one thread serving tens of thousands of requests
    the context would grow by any variable made per request, and every later request would
    copy it all.
    """
    return contextvars.copy_context().run(wsgi_application(), environ, start_response)


@functools.cache
def wsgi_application() -> Any:
    return get_wsgi_application()


@pytest.fixture
def drf_schema() -> Any:
    return load_schema("drf", surrogates=True)


@pytest.fixture
def ninja_schema() -> Any:
    return load_schema("ninja", surrogates=True)


drf = schemathesis.pytest.from_fixture("drf_schema")
ninja = schemathesis.pytest.from_fixture("ninja_schema")


# Operations whose authentication `ignored_auth` has confirmed. The check replays every
# successful call without credentials and with wrong ones (three more requests); once per
# operation and process proves what it can, and keeps a 1,000-example run within its time.
AUTH_CONFIRMED: set[str] = set()


def checks_to_skip(case: Any) -> list[Any]:
    return [ignored_auth] if case.operation.label in AUTH_CONFIRMED else []


def note_auth_confirmed(case: Any, response: Any) -> None:
    """After a call whose checks all passed: a 2xx means `ignored_auth` ran and found no fault."""
    if 200 <= response.status_code < 300:
        AUTH_CONFIRMED.add(case.operation.label)


def call_and_validate(case: Any, auth: StaffAuth) -> None:
    response = case.call_and_validate(
        headers=auth.headers(case), excluded_checks=checks_to_skip(case)
    )
    note_auth_confirmed(case, response)


@drf.parametrize()
@HYPOTHESIS
def test_drf_operations_conform_to_their_schema(case: Any, staff_auth: StaffAuth) -> None:
    call_and_validate(case, staff_auth)


@ninja.parametrize()
@HYPOTHESIS
def test_ninja_operations_conform_to_their_schema(case: Any, staff_auth: StaffAuth) -> None:
    call_and_validate(case, staff_auth)


# --- Stateful -----------------------------------------------------------------------------------


def linked_operations(schema: Any) -> set[tuple[str, str]]:
    """(source, target) operation labels of every link the state machine follows."""
    schema.as_state_machine()  # infers the links and adds them to the raw schema
    links = set()
    for path, item in schema.raw_schema["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue
            for response in operation.get("responses", {}).values():
                for link in response.get("links", {}).values():
                    target = link["operationRef"].removeprefix("#/paths/").split("/")
                    target_path = target[0].replace("~1", "/").replace("~0", "~")
                    links.add((f"{method.upper()} {path}", f"{target[1].upper()} {target_path}"))
    return links


# The chains the stateful run must be able to follow, per style.
REQUIRED_LINKS = {
    "drf": {
        ("POST /api/drf/orders/", "GET /api/drf/orders/{id}/"),
        ("POST /api/drf/orders/", "POST /api/drf/orders/{id}/transition/"),
        ("POST /api/drf/products/", "GET /api/drf/products/{id}/"),
        ("POST /api/drf/products/", "PATCH /api/drf/products/{id}/"),
        ("POST /api/drf/products/", "POST /api/drf/orders/"),
        ("POST /api/drf/users/", "GET /api/drf/users/{id}/orders/"),
    },
    "ninja": {
        ("POST /api/ninja/orders/", "GET /api/ninja/orders/{order_id}"),
        ("POST /api/ninja/orders/", "POST /api/ninja/orders/{order_id}/transition"),
        ("POST /api/ninja/products/", "GET /api/ninja/products/{product_id}"),
        ("POST /api/ninja/products/", "PATCH /api/ninja/products/{product_id}"),
        ("POST /api/ninja/products/", "POST /api/ninja/orders/"),
        ("POST /api/ninja/users/", "GET /api/ninja/users/{user_id}/orders"),
    },
}


@pytest.mark.parametrize("style", ["drf", "ninja"])
def test_the_state_machine_links_what_one_call_creates_to_the_next(style: str) -> None:
    assert REQUIRED_LINKS[style] <= linked_operations(load_schema(style))


@pytest.mark.parametrize("style", ["drf", "ninja"])
def test_linked_operations_conform_statefully(style: str, staff_auth: StaffAuth) -> None:
    schema = load_schema(style)

    # Registered as the schema's auth (not plain headers) so that schemathesis knows the token
    # is real: its `ignored_auth` check then also replays successful calls without a token and
    # with a wrong one, and expects a 401 or 403. Asked for every call (no caching), so that a
    # revoking call gets a token of its own.
    @schema.auth(refresh_interval=None)
    class StaffToken:
        def get(self, case: Any, context: Any) -> str:
            return staff_auth.for_case(case)

        def set(self, case: Any, data: str, context: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": data}

    class StaffWorkflow(schema.as_state_machine()):  # type: ignore[misc]
        """Each scenario starts from the same data, so a failing one replays the same way."""

        def setup(self) -> None:
            self.savepoint = transaction.savepoint_create()

        def teardown(self) -> None:
            transaction.savepoint_rollback(self.savepoint)

        def validate_response(
            self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            case.validate_response(
                response,
                additional_checks=additional_checks,
                excluded_checks=checks_to_skip(case),
                transport_kwargs=kwargs,
            )
            note_auth_confirmed(case, response)

    StaffWorkflow.run(settings=STATEFUL)
