"""The plain style's authentication and CSRF: bearer token or session, sync and async."""

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest

from api.credentials import CSRF_FAILED, aforged_session_post, bearer_key, csrf_passes
from api.plain.errors import ApiError, not_authenticated
from users.models import User
from users.selectors import auser_for_token, user_for_token


def authenticate(request: HttpRequest) -> User | AnonymousUser:
    """The bearer token's user if a token is sent, else the session's (maybe anonymous).

    Raises:
        ApiError: 401 for a bearer token that names no active user.
    """
    key = bearer_key(request)
    if key is None:
        return request.user
    return _token_user(user_for_token(key=key) if key else None)


async def aauthenticate(request: HttpRequest) -> User | AnonymousUser:
    """`authenticate` on the async ORM."""
    key = bearer_key(request)
    if key is None:
        return await request.auser()
    return _token_user(await auser_for_token(key=key) if key else None)


def authenticate_token(request: HttpRequest) -> tuple[User, str]:
    """The bearer token's user and key, never the session's (`DELETE auth/token`).

    Raises:
        ApiError: 401 without a bearer token, or for one that names no active user.
    """
    key = _required_key(request)
    return _token_user(user_for_token(key=key) if key else None), key


async def aauthenticate_token(request: HttpRequest) -> tuple[User, str]:
    """`authenticate_token` on the async ORM."""
    key = _required_key(request)
    return _token_user(await auser_for_token(key=key) if key else None), key


def _required_key(request: HttpRequest) -> str:
    key = bearer_key(request)
    if key is None:
        raise not_authenticated()
    return key


def _token_user(user: User | None) -> User:
    if user is None:
        raise not_authenticated("Invalid token.")
    return user


def enforce_session_csrf(request: HttpRequest) -> None:
    """Refuse a post from a logged-in browser session without a valid CSRF token.

    Token clients and anonymous callers are not checked: no cookie logs them in, so a
    forged cross-site request gains nothing.
    """
    if bearer_key(request) is not None or not request.user.is_authenticated:
        return
    if not csrf_passes(request):
        raise ApiError(403, CSRF_FAILED)


async def aenforce_session_csrf(request: HttpRequest) -> None:
    """`enforce_session_csrf` for async views."""
    if await aforged_session_post(request):
        raise ApiError(403, CSRF_FAILED)
