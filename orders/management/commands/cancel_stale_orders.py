"""Cancel pending orders nobody paid for within a given age; their stock goes back on sale."""

from datetime import UTC
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from orders.exceptions import OrderError
from orders.models import Order
from orders.selectors import orders_stale_pending
from orders.services import order_transition
from runtime.durations import HELP as DURATION_HELP
from runtime.durations import parse_duration


def _describe(order: Order) -> str:
    created = order.created_at.astimezone(UTC).isoformat(timespec="seconds")
    return f"order #{order.pk} ({order.customer.email}, created {created})"


def reservation_window() -> str:
    """The default age: settings.ORDER_RESERVATION_MINUTES, as the duration an operator types."""
    return f"{settings.ORDER_RESERVATION_MINUTES}m"


class Command(BaseCommand):
    help = (
        "Cancel pending orders created longer ago than --older-than (default: the reservation "
        "window, ORDER_RESERVATION_MINUTES); their stock goes back on sale. Run it every few "
        "minutes from cron or a scheduler. The history records the system as the actor."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            default=None,
            metavar="AGE",
            help=(
                f"Cancel pending orders older than this: {DURATION_HELP}. Default: "
                f"ORDER_RESERVATION_MINUTES ({reservation_window()})."
            ),
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="List the orders that would be cancelled and change nothing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        given: str | None = options["older_than"]
        age_text = (reservation_window() if given is None else given).strip()
        try:
            cutoff = timezone.now() - parse_duration(age_text)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        except OverflowError:
            raise CommandError(f"Invalid duration {age_text!r}: it is too long.") from None

        stale = list(orders_stale_pending(created_before=cutoff))

        if options["dry_run"]:
            for order in stale:
                self.stdout.write(f"Would cancel {_describe(order)}")
            self.stdout.write(
                f"Dry run: {len(stale)} stale pending order(s) older than {age_text} "
                "would be cancelled; nothing was changed."
            )
            return

        cancelled = skipped = 0
        for order in stale:
            try:
                # A customer may pay between the listing and this call: only a still-pending
                # order is cancelled, checked under the row lock.
                order_transition(
                    order=order,
                    to_status=Order.Status.CANCELLED,
                    actor=None,
                    expected_status=Order.Status.PENDING,
                )
            except OrderError as exc:
                skipped += 1
                self.stderr.write(f"Skipped {_describe(order)}: {exc.message}")
            else:
                cancelled += 1
                self.stdout.write(f"Cancelled {_describe(order)}")

        summary = f"Cancelled {cancelled} stale pending order(s) older than {age_text}."
        if skipped:
            summary += f" Skipped {skipped} order(s) that moved on meanwhile."
        self.stdout.write(summary)
