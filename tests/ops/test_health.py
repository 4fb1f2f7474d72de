"""The probes: /healthz (liveness, touches nothing) and /readyz (the database and Redis answer).

/healthz and /readyz with the database down are checked against a live server in
test_database_outage.py.
"""

import os

import pytest

from tests.servers import free_port

REDIS_URL = os.environ.get("REDIS_URL")


class TestHealthz:
    # No django_db mark: pytest-django refuses any query, so touching the database fails.
    def test_answers_ok_without_touching_the_database(self, client):
        response = client.get("/healthz")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
        assert response["Cache-Control"] == "no-store"

    def test_is_exempt_from_the_https_redirect_that_pages_get(self, client, settings):
        settings.SECURE_SSL_REDIRECT = True
        assert client.get("/healthz").status_code == 200
        assert client.get("/login/").status_code == 301

    def test_refuses_unsafe_methods(self, client):
        assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
class TestReadyz:
    def test_answers_ok_when_the_database_answers(self, client, settings):
        settings.REDIS_URL = None
        response = client.get("/readyz")
        assert response.status_code == 200
        assert response.json() == {"status": "ok", "checks": {"database": "ok"}}

    def test_is_exempt_from_the_https_redirect(self, client, settings):
        settings.REDIS_URL = None
        settings.SECURE_SSL_REDIRECT = True
        assert client.get("/readyz").status_code == 200

    def test_answers_503_naming_redis_when_redis_is_down(self, client, settings):
        settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json() == {
            "status": "unavailable",
            "detail": "Not ready: redis unavailable.",
            "checks": {"database": "ok", "redis": "unavailable"},
        }
        assert int(response["Retry-After"]) > 0

    @pytest.mark.redis
    @pytest.mark.skipif(not REDIS_URL, reason="needs a Redis server: set REDIS_URL (CI does)")
    def test_checks_redis_when_it_is_configured(self, client, settings):
        settings.REDIS_URL = REDIS_URL
        response = client.get("/readyz")
        assert response.status_code == 200
        assert response.json()["checks"] == {"database": "ok", "redis": "ok"}
