"""Writes of the users app: sign-up, API tokens and login lockouts."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from runtime import throttle

from .models import (
    DEFAULT_CLIENT_NAME,
    EMAIL_MAX_LENGTH,
    LoginLockout,
    Token,
    User,
    token_lifetime,
)

# The throttle scope of password logins (`users.backends`; the rate is API_THROTTLE_LOGIN).
LOGIN_SCOPE = "login"


def token_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def token_password_mac(key: str, password: str) -> str:
    """HMAC-SHA256 of a user's `password` field (the hash, never the password), keyed by the
    token's key: stored when the token is issued, compared at every lookup.

    Any new hash (`set_password`, `set_unusable_password`, a hasher's upgrade at a login) no
    longer matches, so the tokens issued before it stop working: what Django's sessions do with
    `get_session_auth_hash`, an HMAC of the same field. Keyed by the token's key, not by
    SECRET_KEY as that one is: a token does not die with a SECRET_KEY rotation (the digest
    does not depend on it either), and a process with another secret (the bench's servers)
    reads it alike.
    """
    return hmac.new(key.encode(), password.encode(), hashlib.sha256).hexdigest()


def token_password_matches(key: str, password: str, mac: str) -> bool:
    """Whether `mac` was made from this key and this password hash (`token_password_mac`)."""
    return hmac.compare_digest(token_password_mac(key, password), mac)


def user_create(*, email: str, name: str, age: int | None, password: str) -> User:
    """Sign a customer up.

    Raises:
        django.core.exceptions.ValidationError: with a message dict naming each bad field
            (email taken or malformed, name too long, age out of range, a weak password).
    """
    user = User(email=email, name=name, age=age)
    errors: dict[str, list[str]] = {}
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        validate_password(password, user=user)
    except ValidationError as error:
        errors["password"] = list(error.messages)
    if errors:
        raise ValidationError(errors)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        # A concurrent sign-up took the email between full_clean's check and the insert.
        raise ValidationError({"email": ["User with this email address already exists."]}) from None
    return user


def token_issue(*, user: User, client: str = DEFAULT_CLIENT_NAME) -> str:
    """Issue an API token for `user` and `client` and return its key (shown once, stored as
    a digest). The user's token of that client name, if any, is replaced: its key stops
    working.

    Concurrent issues for one name are safe: the unique (user, client) constraint makes the
    slower one update the row the faster one wrote (`update_or_create`), so the last key wins.

    Raises:
        django.core.exceptions.ValidationError: `{"client": [...]}` for a bad client name
            (too long, a NUL, a lone surrogate); each API style refuses those first.
    """
    try:
        Token._meta.get_field("client").clean(client, None)
    except ValidationError as error:
        raise ValidationError({"client": error.messages}) from None
    key = secrets.token_urlsafe(32)
    # The stored hash, not the instance's: a stale instance would issue a dead token.
    password = User.objects.values_list("password", flat=True).get(pk=user.pk)
    Token.objects.update_or_create(
        user=user,
        client=client,
        defaults={
            "digest": token_digest(key),
            "password_mac": token_password_mac(key, password),
            "created_at": timezone.now(),
        },
    )
    return key


def token_revoke(*, key: str) -> None:
    """Delete the token whose key this is (nothing if there is none): it stops working."""
    Token.objects.filter(digest=token_digest(key)).delete()


@dataclass(frozen=True, slots=True)
class ExpiredToken:
    user_email: str
    client: str
    created_at: datetime


def tokens_purge_expired(
    *, dry_run: bool = False, now: datetime | None = None
) -> list[ExpiredToken]:
    """Delete the tokens issued `settings.API_TOKEN_LIFETIME` ago or longer.

    They authenticate nobody already (`selectors.user_for_token`); this keeps the table to the
    live ones. A token voided by a password change stays until it expires: its MAC is keyed by
    a key that is not stored, so nothing here can tell. Returns the tokens deleted, or with
    `dry_run` those that would be.
    """
    expired = Token.objects.filter(created_at__lte=(now or timezone.now()) - token_lifetime())
    found = [
        ExpiredToken(user_email=email, client=client, created_at=created)
        for email, client, created in expired.order_by("pk").values_list(
            "user__email", "client", "created_at"
        )
    ]
    if not dry_run:
        # Filtered again by age: a token issued meanwhile (the same user and client) is new.
        expired.delete()
    return found


def _lockout(*, kind: str, who: str, ident: str, retry_after: int) -> LoginLockout:
    now = timezone.now()
    # `who` is what a client typed: a text column takes no NUL and no lone surrogate.
    storable = who.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")
    return LoginLockout(
        kind=kind,
        who=storable[:EMAIL_MAX_LENGTH],
        ident=ident,
        locked_at=now,
        until=now + timedelta(seconds=retry_after),
    )


def login_lockout_record(*, kind: str, who: str, ident: str, retry_after: int) -> LoginLockout:
    """Record that `who` (an account's email or an address; `kind`) is locked out of password
    logins for `retry_after` seconds, under the throttle identity `ident`."""
    lockout = _lockout(kind=kind, who=who, ident=ident, retry_after=retry_after)
    lockout.save()
    return lockout


async def alogin_lockout_record(
    *, kind: str, who: str, ident: str, retry_after: int
) -> LoginLockout:
    """`login_lockout_record` for async code (ninja's `auth/token`)."""
    lockout = _lockout(kind=kind, who=who, ident=ident, retry_after=retry_after)
    await lockout.asave()
    return lockout


def login_unlock(*, lockout: LoginLockout, actor: User) -> bool:
    """Lift a lockout now: the throttle's count for it starts again, and the record says who
    lifted it. An expired lockout is left as it is (False): its identity may be counting a new
    window, which has a record of its own once it locks.

    Raises:
        redis.exceptions.RedisError, OSError: the throttle's counters are unavailable; nothing
            is changed.
    """
    if not lockout.active:
        return False
    throttle.reset(LOGIN_SCOPE, lockout.ident)
    lockout.until = timezone.now()
    lockout.unlocked_by = actor
    lockout.save(update_fields=["until", "unlocked_by"])
    return True
