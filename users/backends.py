"""Password logins, throttled: every entry point (the login page, the admin's, DRF's browsable
login, `auth/token` in every style) goes through Django's `authenticate()`, and so here.

Each attempt counts in the `login` rate (`API_THROTTLE_LOGIN`, default 10/hour) twice, per
account (the email asked for) and per client address, both counts always taken, so neither
guessing one account's password from many addresses nor many accounts' from one address gets
far. Past either, the attempt is refused before the password is checked, even the right one,
until the window ends. The refusal is put on the request (`request.login_throttled`) for the
login forms to say so (`users.forms`) and logged (a warning); each lockout is recorded once,
at its first refused attempt, for staff to see and lift in the admin (`users.LoginLockout`).
"""

import hashlib
import logging
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from runtime.throttle import Throttled, ahit, hit

from .models import LoginLockout, User
from .services import LOGIN_SCOPE, alogin_lockout_record, login_lockout_record

logger = logging.getLogger(__name__)


class ThrottledModelBackend(ModelBackend):
    """Django's `ModelBackend`, behind the `login` rate per account and per address."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        refusals = []
        for ident, kind, who in _idents(request, username, password, kwargs):
            if (refusal := hit(LOGIN_SCOPE, ident)) is not None:
                refusals.append(refusal)
                if refusal.first:
                    login_lockout_record(
                        kind=kind, who=who, ident=ident, retry_after=refusal.retry_after
                    )
                _log(kind, who, refusal)
        if refusals:
            _refuse(request, refusals)
        return super().authenticate(request, username=username, password=password, **kwargs)

    async def aauthenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        """`authenticate` for async code (ninja's `auth/token`): ModelBackend has its own."""
        refusals = []
        for ident, kind, who in _idents(request, username, password, kwargs):
            if (refusal := await ahit(LOGIN_SCOPE, ident)) is not None:
                refusals.append(refusal)
                if refusal.first:
                    await alogin_lockout_record(
                        kind=kind, who=who, ident=ident, retry_after=refusal.retry_after
                    )
                _log(kind, who, refusal)
        if refusals:
            _refuse(request, refusals)
        return await super().aauthenticate(request, username=username, password=password, **kwargs)


def _log(kind: str, who: str, refusal: Throttled) -> None:
    logger.warning("Login throttled: %s %r, retry in %s s", kind, who, refusal.retry_after)


def _refuse(request: HttpRequest | None, refusals: list[Throttled]) -> None:
    """Refuse the attempt, telling the login form (`users.forms`) how long the longest lasts."""
    longest = max(refusals, key=lambda refusal: refusal.retry_after)
    if request is not None:
        request.login_throttled = longest  # type: ignore[attr-defined]
    # Django's authenticate() stops at PermissionDenied: no other backend is tried.
    raise PermissionDenied(longest.detail)


def _idents(
    request: HttpRequest | None, username: str | None, password: str | None, kwargs: dict[str, Any]
) -> list[tuple[str, str, str]]:
    """Who a password attempt counts against, as (throttle identity, kind, who): the account
    asked for (hashed in the identity: a client writes it, and cache keys take no spaces), and
    the client address."""
    account = username if username is not None else kwargs.get(User.USERNAME_FIELD)
    if account is None or password is None:
        return []  # not a password login
    name = str(account).lower()
    digest = hashlib.sha256(name.encode(errors="replace")).hexdigest()[:32]
    address = request.META.get("REMOTE_ADDR", "") if request is not None else ""
    return [
        (f"account:{digest}", LoginLockout.Kind.ACCOUNT, name),
        (f"address:{address}", LoginLockout.Kind.ADDRESS, address),
    ]
