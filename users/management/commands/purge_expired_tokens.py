"""Delete the API tokens past API_TOKEN_LIFETIME; they authenticate nobody already."""

from datetime import UTC

from runtime.commands import PurgeCommand
from users.services import ExpiredToken, tokens_purge_expired


class Command(PurgeCommand):
    help = (
        "Delete the API tokens issued API_TOKEN_LIFETIME ago or longer. They are refused "
        "already; this keeps the table to the live ones. The users stay."
    )
    noun = "token"
    age_setting = "API_TOKEN_LIFETIME"

    def purge(self, *, dry_run: bool) -> list[ExpiredToken]:
        return tokens_purge_expired(dry_run=dry_run)

    def describe(self, item: ExpiredToken) -> str:
        created = item.created_at.astimezone(UTC).isoformat(timespec="seconds")
        # repr: a client name is whatever the client sent.
        return f"the {item.client!r} token of {item.user_email} (issued {created})"
