"""`manage.py check --deploy` checks this project's middleware (runtime/checks.py).

The production settings (config.settings with DJANGO_DEBUG=0) pass it clean (tests/
test_settings.py runs that in a process of its own); here each insecure variant of them is
reported by Django's own check, which before runtime.checks never ran for the settings that
depend on a middleware (Django looked for its own paths in MIDDLEWARE, not our subclasses).
"""

from typing import Any

import pytest
from django.core.checks import Tags, run_checks

# What config.settings computes with DJANGO_DEBUG=0, a real key and one host.
PRODUCTION: dict[str, Any] = {
    "DEBUG": False,
    "SECRET_KEY": "kPq3-vZ8_rT1wY6uE0oI9aS5dF2gH7jK4lX_cV3bN8mQ1zW6eR0tY5uI",
    "ALLOWED_HOSTS": ["orderdesk.example.com"],
    "SECURE_SSL_REDIRECT": True,
    "SECURE_HSTS_SECONDS": 31536000,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    "SECURE_HSTS_PRELOAD": True,
    "SESSION_COOKIE_SECURE": True,
    "CSRF_COOKIE_SECURE": True,
}


@pytest.fixture
def production(settings: Any) -> Any:
    for name, value in PRODUCTION.items():
        setattr(settings, name, value)
    return settings


def findings() -> set[str]:
    return {
        str(message.id)
        for message in run_checks(include_deployment_checks=True, tags=[Tags.security])
    }


def test_the_production_settings_are_clean(production):
    assert findings() == set()


@pytest.mark.parametrize(
    ("setting", "value", "finding"),
    [
        ("DEBUG", True, "security.W018"),
        ("SECRET_KEY", "django-insecure-short", "security.W009"),
        ("SECURE_HSTS_SECONDS", 0, "security.W004"),
        ("SECURE_HSTS_INCLUDE_SUBDOMAINS", False, "security.W005"),
        ("SECURE_SSL_REDIRECT", False, "security.W008"),
        ("SECURE_CONTENT_TYPE_NOSNIFF", False, "security.W006"),
        ("SECURE_REFERRER_POLICY", None, "security.W022"),
        ("SECURE_CROSS_ORIGIN_OPENER_POLICY", "unsafe-none-ish", "security.E024"),
        ("SESSION_COOKIE_SECURE", False, "security.W012"),  # W010 + W011: app and middleware
        ("SESSION_COOKIE_HTTPONLY", False, "security.W015"),
        ("CSRF_COOKIE_SECURE", False, "security.W016"),
        ("ALLOWED_HOSTS", [], "security.W020"),
        ("X_FRAME_OPTIONS", "SAMEORIGIN", "security.W019"),
    ],
    ids=lambda value: value if isinstance(value, str) and value.isupper() else None,
)
def test_each_insecure_setting_is_reported(production, setting, value, finding):
    setattr(production, setting, value)
    assert finding in findings()


@pytest.mark.parametrize(
    ("missing", "finding"),
    [
        ("runtime.middleware.SecurityMiddleware", "security.W001"),
        ("runtime.middleware.XFrameOptionsMiddleware", "security.W002"),
        ("runtime.middleware.CsrfViewMiddleware", "security.W003"),
    ],
)
def test_a_missing_security_middleware_is_reported(production, missing, finding):
    production.MIDDLEWARE = [path for path in production.MIDDLEWARE if path != missing]
    assert finding in findings()


def test_djangos_own_middleware_counts_as_well(production):
    production.MIDDLEWARE = [
        "django.middleware.security.SecurityMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ]
    assert not findings() & {"security.W001", "security.W002", "security.W003"}
