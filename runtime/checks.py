"""Django's deployment checks, made to see this project's middleware.

Django's security checks tell whether a middleware is installed by looking for its own dotted
path in `settings.MIDDLEWARE` (`_security_middleware()` and four more helpers). The classes
in `runtime.middleware` subclass Django's, so with their paths every one of those checks
would report the middleware missing (W001, W002, W003) and skip what depends on it: HSTS, the
SSL redirect, nosniff, the referrer policy, COOP, X-Frame-Options DENY, the secure CSRF cookie,
the session cookie checks, the CSP nonce. `recognise_subclasses()` (run at start-up by
`runtime.apps`) gives the five helpers a version that also accepts a subclass, so Django's own
checks run as written and nothing is silenced.

On a Django upgrade: re-read `django/core/checks/security/{base,csrf,sessions}.py` (the
helpers, and the checks that call them); tests/test_tripwires.py fingerprints the helpers and
fails when one changed since the version reviewed.
"""

from collections.abc import Callable
from functools import cache
from types import ModuleType

from django.conf import settings
from django.core.checks.security import base, csrf, sessions
from django.utils.module_loading import import_string

# (module, helper, the middleware it looks for)
HELPERS: list[tuple[ModuleType, str, str]] = [
    (base, "_security_middleware", "django.middleware.security.SecurityMiddleware"),
    (base, "_xframe_middleware", "django.middleware.clickjacking.XFrameOptionsMiddleware"),
    (base, "_csp_middleware", "django.middleware.csp.ContentSecurityPolicyMiddleware"),
    (csrf, "_csrf_middleware", "django.middleware.csrf.CsrfViewMiddleware"),
    (sessions, "_session_middleware", "django.contrib.sessions.middleware.SessionMiddleware"),
]


@cache
def _class(path: str) -> type | None:
    try:
        found = import_string(path)
    except ImportError:
        return None  # Django's own check of MIDDLEWARE reports it
    return found if isinstance(found, type) else None


def installed(path: str) -> bool:
    """Whether MIDDLEWARE holds the class at `path`, or a subclass of it."""
    wanted = _class(path)
    return wanted is not None and any(
        (found := _class(entry)) is not None and issubclass(found, wanted)
        for entry in settings.MIDDLEWARE
    )


def _helper(path: str) -> Callable[[], bool]:
    def is_installed() -> bool:
        return installed(path)

    is_installed.__qualname__ = f"installed[{path}]"
    return is_installed


# Django's helpers as they were before `recognise_subclasses` (for the tripwires).
REPLACED: dict[str, Callable[[], bool]] = {}


def recognise_subclasses() -> None:
    """Make Django's security checks count a subclass of their middleware as installed."""
    for module, name, path in HELPERS:
        key = f"{module.__name__}.{name}"
        REPLACED.setdefault(key, getattr(module, name))
        setattr(module, name, _helper(path))
