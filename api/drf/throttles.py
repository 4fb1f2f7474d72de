"""DRF's throttles, counting in the one throttle of every style (`api.throttle`).

DRF imports the classes named in settings.REST_FRAMEWORK while it defines `APIView`, so
this module must not import `rest_framework.views` (or anything that subclasses it) at import.
"""

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from api import throttle


class ScopeThrottle(BaseThrottle):
    """Counts each request in `scope`; DRF answers a refusal with 429 and `Retry-After`."""

    scope: str = throttle.CLIENT

    def __init__(self) -> None:
        self.refusal: throttle.Throttled | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        self.refusal = throttle.check(self.scope, request, request.user)
        return self.refusal is None

    def wait(self) -> float | None:
        return None if self.refusal is None else self.refusal.retry_after


class ClientThrottle(ScopeThrottle):
    """Every request: the user's budget once authenticated, else the address's (`anon`)."""


class SignupThrottle(ScopeThrottle):
    scope = "signup"


class TokenThrottle(ScopeThrottle):
    scope = "token"


class OrderThrottle(ScopeThrottle):
    """Orders placed per user (`POST orders/`), on top of the user's overall budget."""

    scope = "orders"
