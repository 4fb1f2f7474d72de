"""ninja's throttle, counting in the one throttle of every style (`api.throttle`)."""

from django.http import HttpRequest
from ninja.throttling import BaseThrottle

from api import throttle
from users.models import User


class RateThrottle(BaseThrottle):
    """Counts each request in `scope` (`"client"`, the default budget, or an operation's own).

    ninja 1.7 has no async throttles: `allow_request` runs synchronously inside the async
    operation, which is free with the in-process cache and one short blocking round trip with
    Redis. ninja keeps one instance per operation and asks `wait` right after a refusal, with
    no await in between, so requests on one event loop do not mix up their refusals.
    """

    def __init__(self, scope: str = throttle.CLIENT) -> None:
        self.scope = scope
        self.refusal: throttle.Throttled | None = None

    def allow_request(self, request: HttpRequest) -> bool:
        user = getattr(request, "auth", None)  # what the API's auth classes put there
        self.refusal = throttle.check(self.scope, request, user if isinstance(user, User) else None)
        return self.refusal is None

    def wait(self) -> float | None:
        return None if self.refusal is None else self.refusal.retry_after
