"""Rate limits in Django's cache: the rates, the window and the count, sync and async.

The mechanism every throttle of the project shares; who is counted in which scope is the
caller's policy (`api.throttle` for the API styles, `users.backends` for password logins).

- **Rates** are `settings.API_THROTTLE_RATES[scope]` ("60/min"), read on every call, so an
  operator's change (and a test's) applies at once. A scope without a rate is not counted.
- **Window**: a fixed window that opens at an identity's first hit in a scope and lasts the
  rate's period; the count is one atomic increment in Django's cache. With `REDIS_URL` set the
  cache is Redis (`django.core.cache.backends.redis.RedisCache`), so every worker process
  counts in the same window and a client gets the documented rate in total, not once per
  process. Refused hits count too: a client that keeps hammering stays refused until the
  window ends, and `Throttled.retry_after` says when that is.
- **The cache down** (Redis unreachable): the hit is let through and a warning logged
  (`runtime.throttle`): a throttle fails open, since refusing everyone while Redis restarts
  would turn a counter's outage into the whole service's.
"""

import logging
import math
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.exceptions import ImproperlyConfigured
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# What a cache backend raises when its server is away (RedisCache: redis-py's errors).
CACHE_ERRORS: tuple[type[Exception], ...] = (RedisError, OSError)

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, slots=True)
class Rate:
    limit: int
    seconds: int


@lru_cache(maxsize=64)
def parse_rate(text: str) -> Rate:
    """`"60/min"` -> `Rate(60, 60)`; the period is read by its first letter (s, m, h, d).

    Raises:
        ImproperlyConfigured: not `<requests>/<period>`.
    """
    limit, _, period = text.partition("/")
    if not limit.isdigit() or period[:1] not in _PERIODS:
        raise ImproperlyConfigured(f"A throttle rate is '<requests>/<s|m|h|d>', not {text!r}.")
    return Rate(limit=int(limit), seconds=_PERIODS[period[0]])


def rate(scope: str) -> Rate | None:
    """The scope's rate now; None when it has none (not throttled)."""
    text = settings.API_THROTTLE_RATES.get(scope)
    return parse_rate(text) if text else None


@dataclass(frozen=True, slots=True)
class Throttled:
    """A refusal: the client may try again after `retry_after` seconds. `first` marks the
    window's first refusal (one hit past the limit), once per window whatever the number of
    processes: the count is one atomic increment."""

    scope: str
    retry_after: int
    first: bool = False

    @property
    def detail(self) -> str:
        return f"Request was throttled. Expected available in {self.retry_after} seconds."


# The window as a sequence of cache operations, `(method, *arguments)`: `hit` runs them on the
# cache's sync API, `ahit` on its async one, so the rule is written once.
_Steps = Generator[tuple[Any, ...], Any, Throttled | None]


def _window(scope: str, ident: str) -> _Steps:
    scope_rate = rate(scope)
    if scope_rate is None:
        return None
    limit, seconds = scope_rate.limit, scope_rate.seconds
    counter = _counter(scope, ident)
    opened = f"{counter}:opened"
    now = time.time()
    if (yield ("add", counter, 1, seconds)):  # the first request opens the window
        yield ("set", opened, now, seconds)
        return None
    count = yield ("incr", counter)
    if count is None:  # the window closed between `add` and `incr`: this opens the next
        yield ("set", counter, 1, seconds)
        yield ("set", opened, now, seconds)
        return None
    if count <= limit:
        return None
    started = yield ("get", opened, now)
    return Throttled(
        scope=scope,
        retry_after=max(1, math.ceil(started + seconds - now)),
        first=count == limit + 1,
    )


def _counter(scope: str, ident: str) -> str:
    return f"throttle:{scope}:{ident}"


def _incr_or_none(incr: Callable[[str], int], key: str) -> int | None:
    try:
        return incr(key)
    except ValueError:  # Django's caches: no such key
        return None


def _counters_unavailable(scope: str, error: Exception) -> None:
    logger.warning("Throttle counters unavailable (%s); %r let through.", error, scope)


def hit(scope: str, ident: str) -> Throttled | None:
    """Count one request of `ident` in `scope`; a `Throttled` once past the scope's rate."""
    steps = _window(scope, ident)
    answer: Any = None
    try:
        while True:
            method, *arguments = steps.send(answer)
            if method == "incr":
                answer = _incr_or_none(cache.incr, *arguments)
            else:
                answer = getattr(cache, method)(*arguments)
    except StopIteration as done:
        return done.value
    except CACHE_ERRORS as error:
        _counters_unavailable(scope, error)
        return None


async def ahit(scope: str, ident: str) -> Throttled | None:
    """`hit` for async code, on the cache's async API (the in-process cache: directly)."""
    if isinstance(caches[DEFAULT_CACHE_ALIAS], LocMemCache):  # no I/O: no thread to hop to
        return hit(scope, ident)
    steps = _window(scope, ident)
    answer: Any = None
    try:
        while True:
            method, *arguments = steps.send(answer)
            if method == "incr":
                try:
                    answer = await cache.aincr(*arguments)
                except ValueError:
                    answer = None
            else:
                answer = await getattr(cache, f"a{method}")(*arguments)
    except StopIteration as done:
        return done.value
    except CACHE_ERRORS as error:
        _counters_unavailable(scope, error)
        return None


def reset(scope: str, ident: str) -> None:
    """Close `ident`'s window in `scope`: its next hit opens a new one (staff lifting a lockout).

    Raises:
        redis.exceptions.RedisError, OSError: the counters are unavailable (the caller says so:
            unlike a hit, a reset that did nothing must not pass for done).
    """
    counter = _counter(scope, ident)
    cache.delete_many([counter, f"{counter}:opened"])
