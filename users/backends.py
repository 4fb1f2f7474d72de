"""Password logins, throttled: every entry point (the login page, the admin's, DRF's browsable
login, `auth/token` in DRF and ninja) goes through Django's `authenticate()`, and so here.

Each attempt counts in the `login` rate (`API_THROTTLE_LOGIN`, default 10/hour) twice: per
account (the email asked for) and per client address, so neither guessing one account's
password from many addresses nor many accounts' from one address gets far. Past either, the
attempt is refused before the password is checked, even the right one, until the window ends;
the refusal is put on the request (`request.login_throttled`) for the login forms to say so
(`users.forms`), and logged for staff (`users.backends`, a warning).
"""

import hashlib
import logging
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from runtime.throttle import Throttled, ahit, hit

from .models import User

logger = logging.getLogger(__name__)

SCOPE = "login"


class ThrottledModelBackend(ModelBackend):
    """Django's `ModelBackend`, behind the `login` rate per account and per address."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        for ident, who in _idents(request, username, password, kwargs):
            if (refusal := hit(SCOPE, ident)) is not None:
                self._refuse(request, who, refusal)
        return super().authenticate(request, username=username, password=password, **kwargs)

    async def aauthenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        """`authenticate` for async code (ninja's `auth/token`): ModelBackend has its own."""
        for ident, who in _idents(request, username, password, kwargs):
            if (refusal := await ahit(SCOPE, ident)) is not None:
                self._refuse(request, who, refusal)
        return await super().aauthenticate(request, username=username, password=password, **kwargs)

    @staticmethod
    def _refuse(request: HttpRequest | None, who: str, refusal: Throttled) -> None:
        logger.warning("Login throttled: %s, retry in %s s", who, refusal.retry_after)
        if request is not None:
            request.login_throttled = refusal  # type: ignore[attr-defined]
        # Django's authenticate() stops at PermissionDenied: no other backend is tried.
        raise PermissionDenied(refusal.detail)


def _idents(
    request: HttpRequest | None, username: str | None, password: str | None, kwargs: dict[str, Any]
) -> list[tuple[str, str]]:
    """Who a password attempt counts against, as (cache identity, words for the log): the
    account asked for (hashed: a client writes it, and cache keys take no spaces), and the
    client address."""
    account = username if username is not None else kwargs.get(User.USERNAME_FIELD)
    if account is None or password is None:
        return []  # not a password login
    name = str(account).lower()
    digest = hashlib.sha256(name.encode(errors="replace")).hexdigest()[:32]
    address = request.META.get("REMOTE_ADDR", "") if request is not None else ""
    return [
        (f"account:{digest}", f"account {name!r}"),
        (f"address:{address}", f"address {address}"),
    ]
