"""The ninja style's authentication: a bearer token or the Django session, on the event loop."""

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from users.models import User
from users.selectors import auser_for_token


class BearerAuth(HttpBearer):
    """`Authorization: Bearer <key>`, looked up on the async ORM. No CSRF: not a cookie.

    ninja 1.7 sees that `authenticate` is a coroutine function (`AuthBase.is_async`) and
    awaits what the inherited sync `__call__` returns, so the whole check stays on the loop.
    """

    async def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = await auser_for_token(key=token.strip())
        if user is not None:
            request.user = user  # so nothing later resolves the lazy session user synchronously
        return user


class SessionAuth(APIKeyCookie):
    """The Django session (the browser, the admin), on `await request.auser()`.

    Why not ninja's `django_auth`: it reads `request.user` synchronously. ninja 1.7's async
    operations run such a sync auth callback in `sync_to_async` (older releases called it on
    the loop and raised SynchronousOnlyOperation, vitalik/django-ninja#1251), so it works, at
    the cost of a thread hop per request. And it checks CSRF before it knows whether anyone is
    logged in, so an anonymous POST would get 403 instead of the contract's 401. This class
    resolves the user first, then applies Django's CSRF middleware logic (`check_csrf`) to
    unsafe methods: ninja marks all its views csrf_exempt and leaves CSRF to cookie auth.
    """

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        super().__init__(csrf=False)  # checked in authenticate, once the user is known

    async def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        if key is None:
            return None
        user = await request.auser()
        if not isinstance(user, User) or not user.is_active:
            return None
        if check_csrf(request) is not None:
            raise HttpError(403, "CSRF check failed.")
        return user
