"""Export orders as CSV or JSON, to stdout or a file, streamed chunk by chunk."""

import csv
import json
import os
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Protocol

from django.core.management.base import BaseCommand, CommandError, CommandParser

from orders.contract import money, order_document_of, timestamp
from orders.models import Order
from orders.selectors import order_list

CHUNK_SIZE = 500
CSV_HEADER = ["order_id", "customer_email", "status", "total", "created_at", "updated_at", "items"]


class _Writable(Protocol):
    def write(self, text: str, /) -> object: ...


def parse_bound(text: str, *, option: str, end: bool) -> datetime:
    """An ISO date or datetime as an aware UTC datetime; naive values are UTC.

    A date is its midnight, or for the end of a range (`end=True`) the next midnight, so the
    whole day is included in the half-open window.
    """
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass
    else:
        if end:
            try:
                day += timedelta(days=1)
            except OverflowError:
                raise CommandError(f"{option} {text!r} is out of range.") from None
        return datetime.combine(day, time.min, tzinfo=UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(
            f"{option} {text!r} is not an ISO date (YYYY-MM-DD) or datetime "
            "(YYYY-MM-DDTHH:MM[:SS][+HH:MM])."
        ) from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def order_as_dict(order: Order) -> dict[str, Any]:
    """The contract's Order (`orders.contract`), with the customer's email beside their id."""
    document = order_document_of(order)
    customer = {"id": document.pop("customer_id"), "email": order.customer.email}
    return {"id": document.pop("id"), "customer": customer, **document}


def order_as_row(order: Order) -> list[str | int]:
    items = "; ".join(
        f"{line.product.sku} x{line.quantity} @ {money(line.unit_price)}"
        for line in order.lines.all()
    )
    return [
        order.pk,
        order.customer.email,
        order.status,
        money(order.total),
        timestamp(order.created_at),
        timestamp(order.updated_at),
        items,
    ]


def write_csv(orders: Iterator[Order], out: _Writable) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    count = 0
    for order in orders:
        writer.writerow(order_as_row(order))
        count += 1
    return count


def write_json(orders: Iterator[Order], out: _Writable) -> int:
    """A JSON list written one object at a time, so the whole export is never in memory."""
    count = 0
    for order in orders:
        out.write(",\n" if count else "[\n")
        out.write(json.dumps(order_as_dict(order), ensure_ascii=False))
        count += 1
    out.write("[]\n" if count == 0 else "\n]\n")
    return count


FORMATS: dict[str, Callable[[Iterator[Order], _Writable], int]] = {
    "csv": write_csv,
    "json": write_json,
}


class _StdoutAdapter:
    """Lets csv and the JSON writer write raw text through the command's stdout."""

    def __init__(self, command: BaseCommand) -> None:
        self.command = command

    def write(self, text: str, /) -> None:
        self.command.stdout.write(text, ending="")


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


class Command(BaseCommand):
    help = (
        "Export orders, newest first, as CSV or JSON to stdout or a file. "
        "Filter by status and by a creation window (--since inclusive, --until exclusive; "
        "a date-only --until includes that whole day). Times are ISO 8601 UTC."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=list(FORMATS), default="csv")
        parser.add_argument(
            "--output", metavar="FILE", help="Write to FILE instead of stdout (overwritten)."
        )
        parser.add_argument("--status", choices=Order.Status.values, help="Only this status.")
        parser.add_argument(
            "--since",
            metavar="DATE",
            help="Orders created at or after this ISO date or datetime (naive is UTC).",
        )
        parser.add_argument(
            "--until",
            metavar="DATE",
            help="Orders created before this ISO datetime, or up to the end of this ISO date.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # argparse checks the choices on the command line; call_command(status=...) does not.
        fmt: str = options["format"]
        if fmt not in FORMATS:
            raise CommandError(f"--format {fmt!r} is not one of: {', '.join(FORMATS)}.")
        status: str | None = options["status"]
        if status is not None and status not in Order.Status.values:
            raise CommandError(
                f"--status {status!r} is not one of: {', '.join(Order.Status.values)}."
            )
        since = None
        if options["since"] is not None:
            since = parse_bound(options["since"], option="--since", end=False)
        until = None
        if options["until"] is not None:
            until = parse_bound(options["until"], option="--until", end=True)
        if since is not None and until is not None and since >= until:
            raise CommandError("--since must be earlier than --until.")

        orders = (
            order_list(status=status, created_from=since, created_to=until)
            .select_related("customer")
            .iterator(chunk_size=CHUNK_SIZE)
        )
        write = FORMATS[fmt]

        output: str | None = options["output"]
        if output is None:
            try:
                count = write(orders, _StdoutAdapter(self))
            except BrokenPipeError:
                # The reader went away (`export_orders | head`): stop quietly, as Unix tools do.
                _silence_stdout()
                return
            # stdout carries only the data; the report goes to stderr.
            self.stderr.write(f"Exported {count} order(s).")
            return
        try:
            with Path(output).open("w", encoding="utf-8", newline="") as file:
                count = write(orders, file)
        except OSError as exc:
            raise CommandError(f"Cannot write {output}: {exc.strerror or exc}") from None
        self.stdout.write(f"Exported {count} order(s) to {output}")
