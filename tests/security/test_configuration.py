"""API8: the deployment settings refuse what is unsafe, and pages carry a strict CSP.

The Content-Security-Policy header is what `settings.SECURE_CSP` says, with a fresh nonce per
response, and every inline `<script>` or `<style>` on a page carries that nonce (anything
inline without it would be blocked by the browser, or would mean the policy had to be relaxed).
"""

import re
import secrets

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.utils.csp import CSP, build_policy
from django.views.decorators.csp import csp_override

from runtime.middleware import ContentSecurityPolicyMiddleware
from tests.test_settings import run_manage

pytestmark = pytest.mark.django_db

PAGES = ["/", "/login/", "/compare/", "/admin/login/", "/api/ninja/docs", "/api/drf/docs/"]
STAFF_PAGES = ["/orders/", "/orders/board/", "/admin/"]
NONCE = re.compile(r"'nonce-([^']+)'")
# Inline elements the browser would run or apply: a <script> without src (JSON data aside)
# and any <style>.
INLINE = re.compile(
    r"<(script)(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")([^>]*)>|<(style)([^>]*)>"
)


def directives(header: str) -> dict[str, list[str]]:
    return {
        name: values
        for name, *values in (part.split() for part in header.split(";") if part.strip())
    }


def csp_of(response) -> str:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request['PATH_INFO']}"
    return header


def settings_policy(header: str) -> str:
    """The policy `settings.SECURE_CSP` gives with the nonce `header` carries, if any."""
    nonce = NONCE.search(header)
    return build_policy(settings.SECURE_CSP, nonce.group(1) if nonce else None)


class TestContentSecurityPolicy:
    @pytest.mark.parametrize("path", PAGES)
    def test_pages_carry_the_policy_the_settings_say(self, client, path):
        response = client.get(path)

        assert response.status_code == 200
        assert csp_of(response) == settings_policy(csp_of(response))

    @pytest.mark.parametrize("path", PAGES)
    def test_every_inline_script_and_style_carries_the_nonce(self, client, path):
        self.assert_inline_code_is_nonced(client.get(path))

    @pytest.mark.parametrize("path", STAFF_PAGES)
    def test_so_do_the_pages_behind_the_login(self, client, staff, path):
        client.force_login(staff)
        response = client.get(path)

        assert response.status_code == 200
        assert csp_of(response) == settings_policy(csp_of(response))
        self.assert_inline_code_is_nonced(response)

    def assert_inline_code_is_nonced(self, response) -> None:
        html = response.text
        elements = [m.group(0) for m in INLINE.finditer(html)]
        nonce = NONCE.search(csp_of(response))
        for element in elements:
            assert nonce is not None, f"inline {element!r} but no nonce in the policy"
            assert f'nonce="{nonce.group(1)}"' in element, element

    def test_each_response_has_a_fresh_nonce(self, client):
        first, second = (NONCE.search(csp_of(client.get("/"))) for _ in range(2))

        assert first is not None
        assert second is not None
        assert first.group(1) != second.group(1)

    def test_api_responses_carry_it_too(self, client):
        assert csp_of(client.get("/api/ninja/products/"))

    def test_a_response_without_a_nonce_follows_the_setting_as_it_changes(self, client, settings):
        # Such a policy is built once and reused (runtime.middleware): a new setting is a new one.
        assert csp_of(client.get("/api/ninja/products/")) == settings_policy("")
        settings.SECURE_CSP = {"default-src": [CSP.NONE], "script-src": [CSP.SELF, CSP.NONCE]}
        assert csp_of(client.get("/api/ninja/products/")) == "default-src 'none'; script-src 'self'"
        settings.SECURE_CSP = {}
        assert "Content-Security-Policy" not in client.get("/api/ninja/products/").headers

    def test_a_views_own_policy_wins_over_the_setting(self, rf):
        middleware = ContentSecurityPolicyMiddleware(
            csp_override({"img-src": ["https://img.example"]})(lambda request: HttpResponse())
        )
        for _ in range(2):  # built, then from the cache
            response = middleware(rf.get("/"))
            assert isinstance(response, HttpResponse)
            assert response.headers["Content-Security-Policy"] == "img-src https://img.example"

    def test_the_policy_is_strict(self):
        policy = directives(build_policy(settings.SECURE_CSP, "n"))

        assert policy["default-src"] == [CSP.SELF]
        for kind in ("script-src", "style-src"):
            assert set(policy[kind]) <= {CSP.SELF, "'nonce-n'"}, kind
        assert set(policy["img-src"]) <= {CSP.SELF, "data:"}
        assert policy["object-src"] == [CSP.NONE]
        assert policy["frame-ancestors"] == [CSP.NONE]
        assert policy["base-uri"] == [CSP.SELF]
        assert "connect-src" not in policy  # default-src: this origin, its WebSocket included


class TestAllowedHosts:
    @pytest.mark.parametrize("hosts", ["*", "orderdesk.example.com,*"])
    def test_a_wildcard_is_refused_when_debug_is_off(self, hosts):
        result = run_manage(
            "check",
            DJANGO_DEBUG="0",
            DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
            DJANGO_ALLOWED_HOSTS=hosts,
        )

        assert result.returncode != 0
        assert "ImproperlyConfigured" in result.stderr
        assert "DJANGO_ALLOWED_HOSTS must not contain '*' when DJANGO_DEBUG is off" in (
            result.stderr
        )

    def test_named_hosts_are_accepted_when_debug_is_off(self):
        result = run_manage(
            "check",
            DJANGO_DEBUG="0",
            DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
            DJANGO_ALLOWED_HOSTS="orderdesk.example.com,.orderdesk.example.com",
        )

        assert result.returncode == 0, result.stderr
