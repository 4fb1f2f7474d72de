"""Fixtures for the security suite: the contract suite's API clients and the e2e browser."""

from tests.api.conftest import api, every_api, full_api, reader
from tests.e2e.conftest import browser, live_asgi_server, page

__all__ = ["api", "browser", "every_api", "full_api", "live_asgi_server", "page", "reader"]
