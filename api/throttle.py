"""One throttle for every API style: the rates, the client's identity and the window.

DRF, ninja and the plain views (the fast path too) each adapt this to their own plumbing
(`api.drf.throttles`, `api.ninja.throttles`, `api.plain.throttles`); none counts on its own.

- **Rates** are `settings.API_THROTTLE_RATES[scope]` ("60/min"), read on every request, so
  an operator's change (and a test's) applies at once. A scope without a rate is not counted.
- **Scopes**: every request counts against its client's budget, `user` (per user, once
  authenticated) or `anon` (per address); the open or costly operations add their own:
  `signup` and `token` per address (logged in or not: they guard the open sign-up and the
  password check), `orders` per user.
- **Identity**: the user's id, or the peer address `REMOTE_ADDR`. Never `X-Forwarded-For`,
  which any client can write: behind a proxy, the server sets the peer address from the
  proxy's header it trusts (`uvicorn --proxy-headers --forwarded-allow-ips=...`).
- **Window**: a fixed window that opens at a client's first request in a scope and lasts the
  rate's period; the count is one atomic increment in Django's cache. With `REDIS_URL` set the
  cache is Redis (`django.core.cache.backends.redis.RedisCache`), so every worker process
  counts in the same window and a client gets the documented rate in total, not once per
  process. Refused requests count too: a client that keeps hammering stays refused until the
  window ends, and `Retry-After` says when that is.
- **The cache down** (Redis unreachable): the request is let through and a warning logged
  (`api.throttle`): a throttle fails open, since refusing every client while Redis restarts
  would turn a counter's outage into the whole API's.
"""

import logging
import math
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from redis.exceptions import RedisError

from users.models import User

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


def address(request: HttpRequest) -> str:
    """The client's identity by its peer address."""
    return f"address:{request.META.get('REMOTE_ADDR', '')}"


def client(request: HttpRequest, user: User | AnonymousUser | None) -> tuple[str, str]:
    """The client budget's scope and identity: `user` by id once authenticated, else `anon`."""
    if user is not None and user.is_authenticated:
        return "user", f"user:{user.pk}"
    return "anon", address(request)


# Scopes counted per address whoever asks; the others per user once authenticated.
PER_ADDRESS = frozenset({"signup", "token"})
# The client budget: `user` or `anon`, whichever the request is.
CLIENT = "client"


def identify(
    scope: str, request: HttpRequest, user: User | AnonymousUser | None
) -> tuple[str, str]:
    """The scope to count in and the identity to count, for `scope` as an operation names it."""
    if scope == CLIENT:
        return client(request, user)
    if scope in PER_ADDRESS:
        return scope, address(request)
    return scope, client(request, user)[1]


@dataclass(frozen=True, slots=True)
class Throttled:
    """A refusal: the client may try again after `retry_after` seconds."""

    scope: str
    retry_after: int

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
    counter = f"throttle:{scope}:{ident}"
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
    return Throttled(scope=scope, retry_after=max(1, math.ceil(started + seconds - now)))


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


def check(
    scope: str, request: HttpRequest, user: User | AnonymousUser | None = None
) -> Throttled | None:
    """Count `request` in `scope` (`CLIENT`, or an operation's own scope)."""
    return hit(*identify(scope, request, user))


async def acheck(
    scope: str, request: HttpRequest, user: User | AnonymousUser | None = None
) -> Throttled | None:
    """`check` for async code."""
    return await ahit(*identify(scope, request, user))


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
