"""Tripwires on the pieces of Django (and asgiref) that runtime/ copies, bypasses or reads.

Each entry is the source of an upstream function or method as we reviewed it (Django 6.1.3,
asgiref 3.x), fingerprinted. A release that changes one fails here, naming our module to
re-read against it; update the digest once ours agrees with the new upstream code again.
(DRF's tripwires are in tests/api/test_drf_rows.py, the prepared querysets' in
tests/api/test_prepared.py.)
"""

import hashlib
import inspect
from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import ThreadSensitiveContext
from django.contrib.messages import api as messages_api
from django.contrib.messages import middleware as messages_middleware
from django.contrib.messages.storage import base as messages_storage
from django.contrib.sessions import middleware as sessions_middleware
from django.core.handlers import asgi, base
from django.http import HttpRequest
from django.middleware import csp, csrf
from django.utils import deprecation, functional
from django.views.decorators import csp as csp_decorators

from runtime.checks import REPLACED

HANDLERS = "runtime/handlers.py"
MIDDLEWARE = "runtime/middleware.py"

# (upstream code, digest as reviewed, our code that depends on it and why)
REVIEWED: list[tuple[Callable[..., Any], str, str]] = [
    (asgi.ASGIHandler.handle, "c91f27c7fcdc3fff", f"{HANDLERS}: ASGIHandler._handle copies it"),
    (
        asgi.ASGIHandler.read_body,
        "88b4e284fc829700",
        f"{HANDLERS}: BodyCap stops it at the limit by raising from `receive`",
    ),
    (
        asgi.ASGIHandler.__call__,
        "f756809e9c9308dc",
        f"{HANDLERS}: ASGIHandler.__call__ replaces it",
    ),
    (
        base.BaseHandler.load_middleware,
        "b75c13d1041e06d9",
        f"{MIDDLEWARE}: CsrfViewMiddleware sets an async process_view, which it must await",
    ),
    (
        deprecation.MiddlewareMixin.__acall__,
        "adf8cbcaf9f11e45",
        f"{MIDDLEWARE}: InlineMiddlewareMixin, SessionMiddleware and MessageMiddleware replace it",
    ),
    (
        sessions_middleware.SessionMiddleware.process_response,
        "fbaf5503c20d7dd0",
        f"{MIDDLEWARE}: SessionMiddleware skips it (no hop) when nothing is to be saved",
    ),
    (
        messages_middleware.MessageMiddleware.process_request,
        "7f4834ba26ee0583",
        f"{MIDDLEWARE}: MessageMiddleware sets request._messages lazily instead",
    ),
    (
        messages_middleware.MessageMiddleware.process_response,
        "04469c9493c90e26",
        f"{MIDDLEWARE}: MessageMiddleware skips it when the storage was never made or used",
    ),
    (
        messages_api.get_messages,
        "70d661e01baade01",
        f"{MIDDLEWARE}: request._messages is where Django's messages API looks",
    ),
    (
        messages_storage.BaseStorage.__init__,
        "cc6e74277a3ea532",
        f"{MIDDLEWARE}: MessageMiddleware reads the storage's `used` and `added_new`",
    ),
    (
        functional.LazyObject.__init__,
        "7452dc4fee3b7c62",
        f"{MIDDLEWARE}: _used reads SimpleLazyObject._wrapped against `empty`",
    ),
    (
        csp.ContentSecurityPolicyMiddleware.process_response,
        "1be74a3834c7ceb1",
        f"{MIDDLEWARE}: ContentSecurityPolicyMiddleware.process_response re-implements it",
    ),
    (
        csp_decorators.csp_override,
        "e4212ab3dc8f5c2c",
        f"{MIDDLEWARE}: a response's _csp_config attribute, as csp_override sets it",
    ),
    (
        csp_decorators.csp_report_only_override,
        "8de6b6667f8c1fb8",
        f"{MIDDLEWARE}: a response's _csp_ro_config attribute",
    ),
    (
        csrf.CsrfViewMiddleware.process_view,
        "912b151aa62a145e",
        f"{MIDDLEWARE}: CsrfViewMiddleware._aprocess_view calls it on the event loop",
    ),
    (
        ThreadSensitiveContext.__init__,
        "588b5c0a4d8d60f3",
        f"{HANDLERS}: ASGIHandler passes each request's reused executor to it",
    ),
]


# Django's five "is this middleware installed?" helpers, which runtime/checks.py replaces.
CHECK_HELPERS = {
    "django.core.checks.security.base._security_middleware": "e3e716d19c284d45",
    "django.core.checks.security.base._xframe_middleware": "617ba4b512a45824",
    "django.core.checks.security.base._csp_middleware": "b0df3dedfef47913",
    "django.core.checks.security.csrf._csrf_middleware": "fb71e62045d557b7",
    "django.core.checks.security.sessions._session_middleware": "46fb403944c23870",
}


def fingerprint(function: Callable[..., Any]) -> str:
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()[:16]


@pytest.mark.parametrize(
    ("function", "digest", "ours"),
    REVIEWED,
    ids=[f"{function.__module__}.{function.__qualname__}" for function, _, _ in REVIEWED],
)
def test_upstream_code_is_the_reviewed_version(function, digest, ours):
    assert fingerprint(function) == digest, (
        f"{function.__module__}.{function.__qualname__} changed upstream: re-read {ours}"
    )


def test_the_private_attributes_read_are_where_they_were():
    """The attributes read by name, on live objects, as the reviewed versions have them."""
    storage = messages_storage.BaseStorage(request=HttpRequest())
    assert (storage.used, storage.added_new) == (False, False)
    lazy = functional.SimpleLazyObject(object)
    assert lazy._wrapped is functional.empty

    @csp_decorators.csp_override({"default-src": ["'self'"]})
    def view(request: object) -> Any:
        return type("Response", (), {})()

    assert view(None)._csp_config == {"default-src": ["'self'"]}


@pytest.mark.parametrize(("name", "digest"), CHECK_HELPERS.items())
def test_the_deployment_checks_helpers_are_the_reviewed_version(name, digest):
    original = REPLACED[name]  # as Django defines it, before runtime.checks replaced it
    assert fingerprint(original) == digest, (
        f"{name} changed upstream: re-read runtime/checks.py and the checks that call it"
    )
