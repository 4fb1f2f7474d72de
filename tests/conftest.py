import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.core.exceptions import SynchronousOnlyOperation

from orders.factories import OrderFactory, ProductFactory, StaffFactory, UserFactory
from orders.models import Order, Product
from tests import servers
from users.models import User


@pytest.fixture
def customer(db: None) -> User:
    return UserFactory.create()


@pytest.fixture
def other_customer(db: None) -> User:
    return UserFactory.create()


@pytest.fixture
def staff(db: None) -> User:
    return StaffFactory.create()


@pytest.fixture
def product(db: None) -> Product:
    return ProductFactory.create(stock=10)


@pytest.fixture
def make_order(db: None) -> Callable[..., Order]:
    """Place an order through the domain layer; keyword arguments as OrderFactory takes."""

    def make(**kwargs: Any) -> Order:
        return OrderFactory.create(**kwargs)

    return make


@pytest.fixture(scope="session")
def production_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.ProductionSite]:
    """The README's production command, static files collected, debug off (tests/servers.py):
    one server for the run, started when a test first asks for it."""
    with servers.production_site(tmp_path_factory.mktemp("production")) as site:
        yield site


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Throttle counters live in the cache: each test starts with none."""
    cache.clear()
    yield
    cache.clear()


# --- Async hygiene ----------------------------------------------------------------------------
# Async code must never reach the ORM synchronously. Django raises SynchronousOnlyOperation when
# it does, unless DJANGO_ALLOW_ASYNC_UNSAFE turns that check off; and a handler that catches the
# error (ninja's, DRF's, Django's 500, a consumer's) can hide it from the test. So the run refuses
# the variable, and a SynchronousOnlyOperation created during a test fails it, caught or not.
_sync_only_operations: list[str] = []


@pytest.fixture(scope="session", autouse=True)
def _async_unsafe_refused() -> Iterator[None]:
    if os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE"):
        pytest.fail("DJANGO_ALLOW_ASYNC_UNSAFE is set: unset it, the suite checks async safety.")
    original = SynchronousOnlyOperation.__init__

    def recording_init(self: SynchronousOnlyOperation, *args: object) -> None:
        _sync_only_operations.append(str(args[0]) if args else "")
        original(self, *args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SynchronousOnlyOperation, "__init__", recording_init)
        yield


@pytest.fixture(autouse=True)
def _no_sync_only_operation(_async_unsafe_refused: None) -> Iterator[None]:
    _sync_only_operations.clear()
    yield
    if os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE"):
        pytest.fail("DJANGO_ALLOW_ASYNC_UNSAFE was set during the test.")
    if _sync_only_operations:
        raised = "; ".join(_sync_only_operations)
        _sync_only_operations.clear()
        pytest.fail(f"SynchronousOnlyOperation raised during the test (maybe caught): {raised}")


# --- Skips that CI does not expect ------------------------------------------------------------
_skips: list[tuple[str, str]] = []  # node id, reason


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail") and isinstance(report.longrepr, tuple):
        _skips.append((report.nodeid, str(report.longrepr[2])))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI, a skip the run does not expect (tests/skips.py) fails it."""
    if not os.environ.get("CI") or not _skips:
        return
    from django.db import connection  # noqa: PLC0415 (Django is set up by now)

    from tests.skips import unexpected  # noqa: PLC0415

    missing = set(unexpected({reason for _, reason in _skips}, connection.vendor))
    if missing:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("CI: skips that mean a real part is missing:", red=True)
            for nodeid, reason in _skips:
                if reason in missing:
                    reporter.write_line(f"  {nodeid}: {reason}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
