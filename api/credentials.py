"""How a request proves who sent it, shared by the API styles: the bearer key, the CSRF check.

Not an interface: DRF, ninja and the plain views each adapt these to their own plumbing.
"""

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware

CSRF_FAILED = "CSRF Failed: CSRF token missing or incorrect."


def bearer_key(request: HttpRequest) -> str | None:
    """The key of an `Authorization: Bearer <key>` header; None without one."""
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    return key.strip() if scheme.lower() == "bearer" else None


def _ignored(request: HttpRequest) -> HttpResponse:
    return HttpResponse()


def csrf_passes(request: HttpRequest) -> bool:
    """Django's own CSRF check, as a form post gets it."""
    # A fresh instance reads the current settings.
    return CsrfViewMiddleware(_ignored).process_view(request, _ignored, (), {}) is None


async def aforged_session_post(request: HttpRequest) -> bool:
    """Whether the request comes from a logged-in browser session without a valid CSRF token.

    For async code (loading the session may hit the database). Token clients and anonymous
    callers are never forged: no cookie logs them in, so a cross-site request gains nothing.
    """
    if bearer_key(request) is not None or not (await request.auser()).is_authenticated:
        return False
    return not await sync_to_async(csrf_passes)(request)
