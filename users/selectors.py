"""Reads of the users app. Each has an async twin for the async API styles."""

from django.contrib.auth.models import AnonymousUser

from .models import Token, User
from .services import token_digest


def user_for_token(*, key: str) -> User | None:
    """The active user a token key belongs to, or None. One query."""
    token = Token.objects.select_related("user").filter(digest=token_digest(key)).first()
    if token is None or not token.user.is_active:
        return None
    return token.user


async def auser_for_token(*, key: str) -> User | None:
    """`user_for_token` on the async ORM."""
    token = await Token.objects.select_related("user").filter(digest=token_digest(key)).afirst()
    if token is None or not token.user.is_active:
        return None
    return token.user


def user_visible_to(*, viewer: User | AnonymousUser, user_id: int) -> User | None:
    """The user if `viewer` may see them (themself, or staff), else None: 404 for the rest."""
    if not viewer.is_authenticated:
        return None
    if not viewer.is_staff and viewer.pk != user_id:
        return None
    return User.objects.filter(pk=user_id).first()


async def auser_visible_to(*, viewer: User | AnonymousUser, user_id: int) -> User | None:
    """`user_visible_to` on the async ORM."""
    if not viewer.is_authenticated:
        return None
    if not viewer.is_staff and viewer.pk != user_id:
        return None
    return await User.objects.filter(pk=user_id).afirst()
