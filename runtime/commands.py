"""What the operators' purge commands share: a `--dry-run`, a line per item, one summary."""

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from .durations import format_duration


class PurgeCommand(BaseCommand):
    """Remove what a setting's age limit has made dead; `--dry-run` lists it only.

    A subclass names the items (`noun`), the setting of their age limit in seconds
    (`age_setting`), and says how to remove them (`purge`) and how to show one (`describe`).
    """

    noun: str
    age_setting: str

    def purge(self, *, dry_run: bool) -> Sequence[Any]:
        raise NotImplementedError

    def describe(self, item: Any) -> str:
        raise NotImplementedError

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=f"List the {self.noun}s that would be removed and change nothing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run: bool = options["dry_run"]
        age = format_duration(getattr(settings, self.age_setting))
        items = self.purge(dry_run=dry_run)
        verb = "Would remove" if dry_run else "Removed"
        if options["verbosity"] >= 1:
            for item in items:
                self.stdout.write(f"{verb} {self.describe(item)}")
        summary = f"{verb} {len(items)} {self.noun}(s) older than {age} ({self.age_setting})."
        if dry_run:
            summary = f"Dry run: {summary[0].lower()}{summary[1:]} Nothing was changed."
        self.stdout.write(summary)
