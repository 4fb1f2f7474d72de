"""One throttle policy for every API style: who is counted, in which scope.

DRF, ninja and the plain views (the fast path too) each adapt this to their own plumbing
(`api.drf.throttles`, `api.ninja.throttles`, `api.plain.throttles`); the counting itself is
`runtime.throttle` (rates, window, Redis across processes, failing open).

- **Scopes**: every request counts against its client's budget, `user` (per user, once
  authenticated) or `anon` (per address); the open or costly operations add their own:
  `signup` and `token` per address (logged in or not: they guard the open sign-up and the
  password check), `orders` per user.
- **Identity**: the user's id, or the peer address `REMOTE_ADDR`. Never `X-Forwarded-For`
  as sent, which any client can write: behind a proxy, `runtime.proxy` sets the peer address
  from the header of the proxies in settings.TRUSTED_PROXIES, and only theirs.
"""

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest

from runtime.throttle import Throttled, ahit, hit
from users.models import User

__all__ = ["CLIENT", "Throttled", "acheck", "address", "check", "client", "identify"]


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
