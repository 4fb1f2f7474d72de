"""Reads of the users app. Each has an async twin for the async API styles."""

from functools import cache

from django.contrib.auth.models import AnonymousUser
from django.db import DEFAULT_DB_ALIAS, connection

from runtime import asyncdb

from .models import Token, User
from .services import token_digest


def user_for_token(*, key: str) -> User | None:
    """The active user a token key belongs to, or None. One query.

    Every API request with a token starts here. On PostgreSQL the query is written out and
    the `User` built from the row as the ORM would (`Model.from_db`): compiling the ORM query
    was a third of a DRF request's CPU (docs/benchmarks.md).
    """
    digest = token_digest(key)
    if connection.vendor == "postgresql":
        fields, sql = _user_by_digest_sql()
        with connection.cursor() as cursor:
            cursor.execute(sql, (digest,))
            row = cursor.fetchone()
        user = None if row is None else User.from_db(connection.alias, fields, row)
    else:
        token = Token.objects.select_related("user").filter(digest=digest).first()
        user = None if token is None else token.user
    if user is None or not user.is_active:
        return None
    return user


async def auser_for_token(*, key: str) -> User | None:
    """`user_for_token` for async code. One query, on the event loop where it can be.

    On PostgreSQL it runs on psycopg's async driver (`runtime.asyncdb`) and builds the `User`
    from the row as the ORM would (`Model.from_db`): every API request with a token starts
    here, and the async ORM's thread hop and query compilation were a large share of an async
    request's CPU (docs/benchmarks.md). Elsewhere, the async ORM.
    """
    digest = token_digest(key)
    if asyncdb.available():
        fields, sql = _user_by_digest_sql()
        async with asyncdb.aconnection() as conn:
            row = await (await conn.execute(sql, (digest,))).fetchone()
        # The alias by name: `connection.alias` from async code would make this context a
        # connection object of its own, on every request, for nothing.
        user = None if row is None else User.from_db(DEFAULT_DB_ALIAS, fields, row)
    else:
        token = await Token.objects.select_related("user").filter(digest=digest).afirst()
        user = None if token is None else token.user
    if user is None or not user.is_active:
        return None
    return user


@cache
def _user_by_digest_sql() -> tuple[list[str], str]:
    """The user's columns (all of them, as the ORM loads) and the query by token digest."""
    fields = [field.attname for field in User._meta.concrete_fields]
    columns = ", ".join(f'u."{field.column}"' for field in User._meta.concrete_fields)
    sql = (
        f"SELECT {columns} FROM {Token._meta.db_table} t "  # noqa: S608 (names from the models)
        f"JOIN {User._meta.db_table} u ON u.id = t.user_id WHERE t.digest = %s LIMIT 1"
    )
    return fields, sql


def user_visible_to(*, viewer: User | AnonymousUser, user_id: int) -> User | None:
    """The user if `viewer` may see them (themself, or staff), else None: 404 for the rest."""
    if not viewer.is_authenticated:
        return None
    if viewer.pk == user_id and isinstance(viewer, User):
        return viewer  # themself: no query
    if not viewer.is_staff:
        return None
    return User.objects.filter(pk=user_id).first()


async def auser_visible_to(*, viewer: User | AnonymousUser, user_id: int) -> User | None:
    """`user_visible_to` on the async ORM."""
    if not viewer.is_authenticated:
        return None
    if viewer.pk == user_id and isinstance(viewer, User):
        return viewer  # themself: no query
    if not viewer.is_staff:
        return None
    return await User.objects.filter(pk=user_id).afirst()
