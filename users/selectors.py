"""Reads of the users app. Each is written once, as a `runtime.reads` read; its async twin for
the async API styles runs the same read with `reads.arun`."""

from functools import cache

from django.contrib.auth.models import AnonymousUser
from django.db import DEFAULT_DB_ALIAS
from django.utils import timezone

from runtime import asyncdb, reads

from .models import Token, User, may_see, token_lifetime
from .services import token_digest, token_password_matches


def _for_token(key: str) -> reads.Read[User | None]:
    digest = token_digest(key)
    # Expired: issued a lifetime ago or longer.
    issued_after = timezone.now() - token_lifetime()
    if asyncdb.available():  # PostgreSQL
        fields, sql = _user_by_digest_sql()
        row = yield reads.Sql(sql, (digest, issued_after), one=True)
        if row is None:
            return None
        mac = row[0]
        # The alias by name: `connection.alias` from async code would make this context a
        # connection object of its own, on every request, for nothing.
        user = User.from_db(DEFAULT_DB_ALIAS, fields, row[1:])
    else:
        token = yield reads.First(
            Token.objects.select_related("user").filter(digest=digest, created_at__gt=issued_after)
        )
        if token is None:
            return None
        mac, user = token.password_mac, token.user
    if not user.is_active or not token_password_matches(key, user.password, mac):
        return None  # deactivated, or the password changed since the token was issued
    return user


def user_for_token(*, key: str) -> User | None:
    """The active user a live token key belongs to, or None. One query.

    Live: issued less than `API_TOKEN_LIFETIME` ago, under the user's current password
    (`users.services.token_password_mac`), and not revoked (a deleted row). Every API request
    with a token starts here. On PostgreSQL the query is written out and the `User` built
    from the row as the ORM would (`Model.from_db`): compiling the ORM query was a third of
    a DRF request's CPU, and in async code the async ORM's thread hop a large share of a
    request's (docs/benchmarks.md). Elsewhere, the ORM.
    """
    return reads.run(_for_token(key))


async def auser_for_token(*, key: str) -> User | None:
    """`user_for_token` for async code: on psycopg's async driver where there is one."""
    return await reads.arun(_for_token, key)


@cache
def _user_by_digest_sql() -> tuple[list[str], str]:
    """The user's columns (all of them, as the ORM loads) and the query by token digest and
    earliest issue time; the row starts with the token's password MAC."""
    fields = [field.attname for field in User._meta.concrete_fields]
    columns = ", ".join(f'u."{field.column}"' for field in User._meta.concrete_fields)
    sql = (
        f"SELECT t.password_mac, {columns} "  # noqa: S608 (names from the models)
        f"FROM {Token._meta.db_table} t JOIN {User._meta.db_table} u ON u.id = t.user_id "
        "WHERE t.digest = %s AND t.created_at > %s LIMIT 1"
    )
    return fields, sql


def _visible(viewer: User | AnonymousUser, user_id: int) -> reads.Read[User | None]:
    if not may_see(viewer, user_id):
        return None
    if viewer.pk == user_id and isinstance(viewer, User):
        return viewer  # themself: no query
    user: User | None = yield reads.First(User.objects.filter(pk=user_id))
    return user


def user_visible_to(*, viewer: User | AnonymousUser, user_id: int) -> User | None:
    """The user if `viewer` may see them (themself, or staff), else None: 404 for the rest."""
    return reads.run(_visible(viewer, user_id))


async def auser_visible_to(*, viewer: User | AnonymousUser, user_id: int) -> User | None:
    """`user_visible_to` for async code."""
    return await reads.arun(_visible, viewer, user_id)
