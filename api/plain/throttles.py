"""The plain style's throttle: the one throttle of every style (`api.throttle`), called by hand."""

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest

from api import throttle as core
from api.plain.errors import ApiError
from users.models import User


def _refused(refusal: core.Throttled) -> ApiError:
    return ApiError(429, refusal.detail, headers={"Retry-After": str(refusal.retry_after)})


def throttle(
    request: HttpRequest, scope: str = core.CLIENT, user: User | AnonymousUser | None = None
) -> None:
    """Count this request in `scope`; 429 with `Retry-After` once past its rate."""
    if (refusal := core.check(scope, request, user)) is not None:
        raise _refused(refusal)


async def athrottle(
    request: HttpRequest, scope: str = core.CLIENT, user: User | AnonymousUser | None = None
) -> None:
    """`throttle` for async views."""
    if (refusal := await core.acheck(scope, request, user)) is not None:
        raise _refused(refusal)
