"""Forget the idempotency keys older than IDEMPOTENCY_KEY_TTL; the orders themselves stay."""

from datetime import UTC

from orders.services import ExpiredKey, idempotency_keys_purge
from runtime.commands import PurgeCommand


class Command(PurgeCommand):
    help = (
        "Clear the idempotency keys (and the answers kept for replay) of orders placed longer "
        "ago than IDEMPOTENCY_KEY_TTL. Expired keys no longer replay anyway; the orders stay."
    )
    noun = "idempotency key"
    age_setting = "IDEMPOTENCY_KEY_TTL"

    def purge(self, *, dry_run: bool) -> list[ExpiredKey]:
        return idempotency_keys_purge(dry_run=dry_run)

    def describe(self, item: ExpiredKey) -> str:
        created = item.created_at.astimezone(UTC).isoformat(timespec="seconds")
        # repr: a key is whatever a client sent, spaces and newlines included.
        return (
            f"key {item.idempotency_key!r} of order #{item.order_id} "
            f"({item.customer_email}, created {created})"
        )
