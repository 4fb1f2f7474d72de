"""End-to-end fixtures: the real ASGI application served by uvicorn in a thread of this process,
and Debian's Chromium driven by Playwright's sync API.

The server thread shares this process's test database, as pytest-django's `live_server` does
(SQLite's shared in-memory one included), and its channel layer.

Playwright's sync API leaves this thread's event loop marked as running between its calls, so
Django refuses ORM calls from the test once the browser has started: create the data a test
needs in fixtures listed before `page`, and change it afterwards through the live server's API.
"""

import re
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from playwright.sync_api import Browser, Page, expect, sync_playwright

from config.asgi import application
from tests.servers import HOST, ProductionSite, serve_in_thread

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A loaded CI machine can take longer than Playwright's 5 s default to show a change.
expect.set_options(timeout=10_000)


@pytest.fixture
def live_asgi_server(transactional_db: None) -> Iterator[str]:
    """The project's ASGI application (HTTP and WebSockets) on a free port; yields its URL.

    Static files are served from the apps' folders, as runserver serves them (in production the
    application serves the collected ones itself: `production_page`).
    """
    with serve_in_thread(ASGIStaticFilesHandler(application)) as port:
        yield f"http://{HOST}:{port}"


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Chromium, headless. Function-scoped: Playwright must stop before the database flush."""
    if not CHROMIUM.exists():
        pytest.skip(f"end-to-end tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def open_page(
    request: pytest.FixtureRequest, browser: Browser, base_url: str, **options: Any
) -> Iterator[Page]:
    """A page in a fresh browser context (Playwright's `options`) on the server at `base_url`;
    screenshotted if the test fails."""
    context = browser.new_context(base_url=base_url, **options)
    page = context.new_page()
    try:
        yield page
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            name = re.sub(r"[^\w.-]+", "_", request.node.name)
            path = request.config.rootpath / "test-results" / "e2e" / f"{name}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=path, full_page=True)
        context.close()


@pytest.fixture
def page(request: pytest.FixtureRequest, browser: Browser, live_asgi_server: str) -> Iterator[Page]:
    """A page on the live server."""
    with open_page(request, browser, live_asgi_server) as page:
        yield page


@pytest.fixture
def production_page(
    request: pytest.FixtureRequest, browser: Browser, production_site: ProductionSite
) -> Iterator[Page]:
    """A page on the production server (tests/servers.py), as a browser behind its TLS proxy:
    every request arrives saying it came over HTTPS."""
    headers = {"X-Forwarded-Proto": "https"}
    with open_page(request, browser, production_site.url, extra_http_headers=headers) as page:
        yield page


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item,
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the test item (`rep_setup`, `rep_call`) for the fixtures."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
