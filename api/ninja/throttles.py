"""ninja's throttle, with the rates of settings.API_THROTTLE_RATES."""

from django.conf import settings
from django.http import HttpRequest
from ninja.conf import settings as ninja_settings
from ninja.throttling import SimpleRateThrottle

from users.models import User


class RateThrottle(SimpleRateThrottle):
    """ninja's SimpleRateThrottle with its rate read from settings.API_THROTTLE_RATES per request.

    ninja reads the rate once, when the throttle is made at import time; reading it per request
    lets the tests (and an operator) change it. Clients are told apart by user id once
    authenticated, else by address. The throttle runs synchronously inside the async operation
    (ninja 1.7 has no async throttles): fine for the in-memory cache, a blocking call with a
    network cache. Like DRF's, it keeps the request's history on `self` between `allow_request`
    and `wait`; ninja awaits nothing in between, so requests on one event loop (ASGI) do not
    mix, while threads serving async views under WSGI could.
    """

    def __init__(self, scope: str) -> None:
        self.scope = scope
        super().__init__()

    def get_rate(self) -> str | None:
        rate: str | None = settings.API_THROTTLE_RATES.get(self.scope or "")
        return rate

    def get_ident(self, request: HttpRequest) -> str | None:
        # ninja trusts any X-Forwarded-For when NINJA_NUM_PROXIES is unset, so a client could
        # pick a new identity per request (and guess passwords unthrottled); unset here means
        # "no proxy": the peer address, as the DRF and plain styles count.
        if ninja_settings.NUM_PROXIES is None:
            return request.META.get("REMOTE_ADDR")
        return super().get_ident(request)

    def get_cache_key(self, request: HttpRequest) -> str | None:
        user = getattr(request, "auth", None)
        ident = f"user-{user.pk}" if isinstance(user, User) else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request: HttpRequest) -> bool:
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request)

    def wait(self) -> float | None:
        # Until the oldest request in the window expires; ninja turns it into Retry-After.
        if not self.history or self.duration is None:
            return self.duration
        return max(self.duration - (self.now - self.history[-1]), 1.0)
