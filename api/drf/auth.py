"""DRF authentication: bearer or token keys, looked up in `users.Token`.

DRF imports the classes named in settings.REST_FRAMEWORK while it defines `APIView`, so
this module must not import `rest_framework.views` (or anything that subclasses it) at import.
"""

from typing import TYPE_CHECKING

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication, get_authorization_header
from rest_framework.request import Request

from users.models import User
from users.selectors import user_for_token

if TYPE_CHECKING:
    from drf_spectacular.openapi import AutoSchema  # imports rest_framework.views


class BearerOrTokenAuthentication(TokenAuthentication):
    """`Authorization: Bearer <key>` or `Token <key>`, looked up in our own `users.Token` table.

    `authenticate_header` makes DRF answer 401 with `WWW-Authenticate: Bearer` (not 403) when
    a request carries no credentials. `request.auth` is the key.
    """

    keywords = (b"bearer", b"token")

    def authenticate(self, request: Request) -> tuple[User, str] | None:
        auth = get_authorization_header(request).split()
        if not auth or auth[0].lower() not in self.keywords:
            return None
        if len(auth) != 2:  # the keyword and the key
            raise exceptions.AuthenticationFailed(
                "Invalid token header: expected '<keyword> <key>'."
            )
        try:
            key = auth[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("Invalid token header.") from None
        return self.authenticate_credentials(key)

    def authenticate_credentials(self, key: str) -> tuple[User, str]:
        """The token's user, and its key as `request.auth` (what `DELETE auth/token` revokes)."""
        user = user_for_token(key=key)
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        return user, key

    def authenticate_header(self, request: Request) -> str:
        return "Bearer"


class BearerOrTokenScheme(OpenApiAuthenticationExtension):
    """Documents `BearerOrTokenAuthentication` as HTTP bearer auth (`Token` works as well)."""

    target_class = BearerOrTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: "AutoSchema") -> dict[str, str]:
        return {"type": "http", "scheme": "bearer"}
