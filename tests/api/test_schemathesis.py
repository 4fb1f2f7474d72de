"""Property-based tests: schemathesis drives both OpenAPI schemas with generated requests.

Every operation of DRF's and ninja's schema gets at least 100 generated examples, sent through
Django's WSGI handler in-process (the ninja operations are async; Django runs them), as a staff
member with a bearer token. Schemathesis' default checks apply: no server errors, and status
codes, content types, headers and bodies that match what the schema documents.
"""

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from orders.factories import OrderFactory, ProductFactory, StaffFactory
from users.services import token_issue

pytestmark = pytest.mark.django_db

EXAMPLES = 100
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


@pytest.fixture
def staff_headers(django_settings: Any) -> Iterator[dict[str, str]]:
    """A staff token, some data to find, and throttles out of the way of generated traffic."""
    staff = StaffFactory.create()
    product = ProductFactory.create(stock=1000)
    OrderFactory.create_batch(3, lines=[(product, 1)])
    yield {"Authorization": f"Bearer {token_issue(user=staff)}"}
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
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def drf_schema() -> Any:
    return schemathesis.openapi.from_wsgi("/api/drf/schema/", get_wsgi_application())


@pytest.fixture
def ninja_schema() -> Any:
    return schemathesis.openapi.from_wsgi("/api/ninja/openapi.json", get_wsgi_application())


drf = schemathesis.pytest.from_fixture("drf_schema")
ninja = schemathesis.pytest.from_fixture("ninja_schema")


@drf.parametrize()
@HYPOTHESIS
def test_drf_operations_conform_to_their_schema(case: Any, staff_headers: dict[str, str]) -> None:
    case.call_and_validate(headers=staff_headers)


@ninja.parametrize()
@HYPOTHESIS
def test_ninja_operations_conform_to_their_schema(case: Any, staff_headers: dict[str, str]) -> None:
    case.call_and_validate(headers=staff_headers)
