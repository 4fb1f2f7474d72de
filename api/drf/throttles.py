"""DRF throttles.

DRF imports the classes named in settings.REST_FRAMEWORK while it defines `APIView`, so
this module must not import `rest_framework.views` (or anything that subclasses it) at import.
"""

from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle


class _SettingsRate(SimpleRateThrottle):
    """Reads its rate from `settings.API_THROTTLE_RATES[scope]` when each request is checked.

    DRF's own throttles read `THROTTLE_RATES` once at import, which neither shares the rates
    with the other API styles nor lets a test change them.
    """

    scope: str

    def get_rate(self) -> str | None:
        return settings.API_THROTTLE_RATES[self.scope]

    def get_ident(self, request: Request) -> str:
        # DRF trusts any X-Forwarded-For when NUM_PROXIES is unset, so a client could pick a
        # new identity per request; unset here means "no proxy": the peer address.
        if api_settings.NUM_PROXIES is None:
            return str(request.META.get("REMOTE_ADDR", ""))
        return super().get_ident(request)


class AnonThrottle(_SettingsRate, AnonRateThrottle):
    scope = "anon"


class UserThrottle(_SettingsRate, UserRateThrottle):
    scope = "user"


class _PerAddress(_SettingsRate):
    """Counts requests per client address, logged in or not: guards endpoints open to all."""

    def get_cache_key(self, request: Request, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class SignupThrottle(_PerAddress):
    scope = "signup"


class TokenThrottle(_PerAddress):
    scope = "token"


class OrderThrottle(_SettingsRate, UserRateThrottle):
    """Orders placed per user (`POST orders/`), on top of the user's overall budget."""

    scope = "orders"
