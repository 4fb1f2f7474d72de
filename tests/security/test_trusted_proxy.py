"""Forged forwarding headers against the README's production command (issue 14, finding 4).

The server is the README's `uvicorn config.asgi:application ...` line, debug off, on the test
database. A client on the host writes `X-Forwarded-For` and `X-Forwarded-Proto` itself: without
DJANGO_TRUSTED_PROXIES they change nothing (its own address is counted; the request is not
secure), with the host's proxy trusted the proxy's headers are believed, and only the address
the proxy appended counts.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import LIVE_POSTGRES, UvicornProcess, production_server, request

pytestmark = LIVE_POSTGRES

RATE = 3
# The plain-HTTP requests below reach the views: the HTTPS redirect is off, as when a proxy
# redirects; HSTS, sent on secure requests only, shows whether a request counted as secure.
ENV = {
    "DJANGO_SECURE_SSL_REDIRECT": "0",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    "API_THROTTLE_TOKEN": f"{RATE}/hour",
    "API_THROTTLE_ANON": "1000/min",
}
CREDENTIALS = b'{"email": "nobody@example.com", "password": "not-the-password"}'
TOKEN_PATHS = ["/api/drf/auth/token", "/api/ninja/auth/token"]


def token_attempt(server: UvicornProcess, attempt: int, forwarded_for: str | None) -> int:
    """One wrong password at `auth/token` (DRF and ninja in turn); its status."""
    headers = {"Content-Type": "application/json"}
    if forwarded_for is not None:
        headers["X-Forwarded-For"] = forwarded_for
    path = TOKEN_PATHS[attempt % len(TOKEN_PATHS)]
    return request(server.port, "POST", path, body=CREDENTIALS, headers=headers).status


def is_secure(server: UvicornProcess, **headers: str) -> bool:
    reply = request(server.port, "GET", "/api/ninja/products", headers=headers)
    return "strict-transport-security" in reply.headers


@pytest.fixture
def direct(transactional_db: None, tmp_path: Path) -> Iterator[UvicornProcess]:
    """Nothing trusted, as the README's command runs with no proxy in front."""
    with production_server(tmp_path, **ENV) as server:
        yield server


@pytest.fixture
def proxied(transactional_db: None, tmp_path: Path) -> Iterator[UvicornProcess]:
    """A proxy on the same host, trusted by DJANGO_TRUSTED_PROXIES."""
    with production_server(tmp_path, DJANGO_TRUSTED_PROXIES="127.0.0.1", **ENV) as server:
        yield server


class TestWithoutATrustedProxy:
    def test_a_new_forwarded_address_each_attempt_does_not_reset_the_token_limit(self, direct):
        statuses = [
            token_attempt(direct, n, forwarded_for=f"203.0.113.{n}") for n in range(RATE + 2)
        ]

        assert statuses == [401] * RATE + [429, 429]

    def test_a_forwarded_https_does_not_make_the_request_secure(self, direct):
        assert not is_secure(direct, **{"X-Forwarded-Proto": "https"})


class TestBehindATrustedProxy:
    def test_the_proxy_says_https(self, proxied):
        assert is_secure(proxied, **{"X-Forwarded-Proto": "https"})
        assert not is_secure(proxied)

    def test_each_client_the_proxy_names_has_its_own_budget(self, proxied):
        first = [token_attempt(proxied, n, "198.51.100.1") for n in range(RATE + 1)]
        other = token_attempt(proxied, 0, "198.51.100.2")

        assert first == [401] * RATE + [429]
        assert other == 401

    def test_what_a_client_wrote_before_the_proxys_entry_is_ignored(self, proxied):
        # The proxy appends the address it saw; a client's own entries come before it.
        statuses = [
            token_attempt(proxied, n, f"203.0.113.{n}, 198.51.100.7") for n in range(RATE + 1)
        ]

        assert statuses == [401] * RATE + [429]
