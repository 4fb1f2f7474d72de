"""Forget the idempotency keys older than IDEMPOTENCY_KEY_TTL; the orders themselves stay."""

from datetime import UTC
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from orders.services import ExpiredKey, idempotency_keys_purge

from ._durations import UNITS


def _duration(seconds: int) -> str:
    """`86400` -> `24h`, in the largest unit up to hours that divides it (as operators type it)."""
    for unit in ("h", "m"):
        size = int(UNITS[unit].total_seconds())
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _describe(key: ExpiredKey) -> str:
    created = key.created_at.astimezone(UTC).isoformat(timespec="seconds")
    # repr: a key is whatever a client sent, spaces and newlines included.
    return (
        f"key {key.idempotency_key!r} of order #{key.order_id} "
        f"({key.customer_email}, created {created})"
    )


class Command(BaseCommand):
    help = (
        "Clear the idempotency keys (and the answers kept for replay) of orders placed longer "
        "ago than IDEMPOTENCY_KEY_TTL. Expired keys no longer replay anyway; the orders stay."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="List the keys that would be cleared and change nothing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run: bool = options["dry_run"]
        ttl = _duration(settings.IDEMPOTENCY_KEY_TTL)
        keys = idempotency_keys_purge(dry_run=dry_run)
        verb = "Would remove" if dry_run else "Removed"
        if options["verbosity"] >= 1:
            for key in keys:
                self.stdout.write(f"{verb} {_describe(key)}")
        summary = f"{verb} {len(keys)} idempotency key(s) older than {ttl} (IDEMPOTENCY_KEY_TTL)."
        if dry_run:
            summary = f"Dry run: {summary[0].lower()}{summary[1:]} Nothing was changed."
        self.stdout.write(summary)
