"""The plain style's throttle."""

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from api.plain.errors import ApiError

_PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, slots=True)
class _Window:
    """The current fixed window of one client's counter for a scope."""

    key: str
    limit: int
    seconds: int
    retry_after: int

    def refusal(self) -> ApiError:
        return ApiError(
            429,
            f"Request was throttled. Expected available in {self.retry_after} seconds.",
            headers={"Retry-After": str(self.retry_after)},
        )


def _window(request: HttpRequest, scope: str) -> _Window | None:
    """None when `scope` has no rate in API_THROTTLE_RATES (read per request, "10/hour")."""
    rate = settings.API_THROTTLE_RATES.get(scope)
    if not rate:
        return None
    limit, _, period = rate.partition("/")
    seconds = _PERIOD_SECONDS[period[0]]
    now = int(time.time())
    client = request.META.get("REMOTE_ADDR", "")
    return _Window(
        key=f"plain-throttle:{scope}:{client}:{now // seconds}",
        limit=int(limit),
        seconds=seconds,
        retry_after=seconds - now % seconds,
    )


def throttle(request: HttpRequest, scope: str) -> None:
    """Count this request in the client's window; 429 once past the scope's rate."""
    window = _window(request, scope)
    if window is None:
        return
    cache.add(window.key, 0, timeout=window.seconds)
    try:
        count = cache.incr(window.key)
    except ValueError:  # the entry expired between add and incr
        cache.set(window.key, 1, timeout=window.seconds)
        count = 1
    if count > window.limit:
        raise window.refusal()


async def athrottle(request: HttpRequest, scope: str) -> None:
    """`throttle` on the cache's async API."""
    window = _window(request, scope)
    if window is None:
        return
    await cache.aadd(window.key, 0, timeout=window.seconds)
    try:
        count = await cache.aincr(window.key)
    except ValueError:
        await cache.aset(window.key, 1, timeout=window.seconds)
        count = 1
    if count > window.limit:
        raise window.refusal()
