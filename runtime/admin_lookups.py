"""Changelist filters from the query string, checked before the database sees them.

The admin builds its changelist filters from whatever a staff member's URL says. Values that
Django's date-hierarchy arithmetic, the database driver or the database cannot take (a year of
99999999999 or 9999, which the hierarchy steps past; a month of 13; a NUL, which PostgreSQL
refuses in text) raised at query time and answered 500. `ModelAdmin.lookup_allowed` (a public
hook, called for every filter parameter before any is used) refuses them, and Django answers a
refused lookup with 400 (`DisallowedModelAdminLookup` is a `SuspiciousOperation`).
"""

from typing import Any

from django.contrib import admin
from django.contrib.admin.exceptions import DisallowedModelAdminLookup
from django.db.models import Model
from django.http import HttpRequest

from users.validators import is_unicode_text

# The datetime parts a lookup can extract, and the values each can hold. The year stops one
# short of datetime's 9999: the date hierarchy's "next year" of 9999 does not exist.
DATE_PARTS: dict[str, range] = {
    "year": range(1, 9999),
    "iso_year": range(1, 9999),
    "quarter": range(1, 5),
    "month": range(1, 13),
    "week": range(1, 54),
    "day": range(1, 32),
    "week_day": range(1, 8),
    "iso_week_day": range(1, 8),
    "hour": range(24),
    "minute": range(60),
    "second": range(60),
}


def lookup_value_problem(lookup: str, value: str) -> str | None:
    """Why `value` cannot be used for the changelist filter `lookup`, or None if it can."""
    if "\x00" in value or not is_unicode_text(value):
        return "a NUL or a character that cannot be encoded"
    parts = lookup.split("__")
    # `created_at__year`, `created_at__year__gte`: the part is the last or the one before it.
    part = next((name for name in reversed(parts[-2:]) if name in DATE_PARTS), None)
    if part is None or parts[-1] == "isnull":
        return None
    allowed = DATE_PARTS[part]
    for item in value.split(",") if parts[-1] in {"in", "range"} else [value]:
        try:
            number = int(item)
        except ValueError:
            return f"{part} must be a whole number"
        if number not in allowed:
            return f"{part} must be from {allowed.start} to {allowed.stop - 1}"
    return None


class BoundedLookups[M: Model](admin.ModelAdmin[M]):
    """A ModelAdmin whose changelist refuses filter values out of range: 400, not 500."""

    def lookup_allowed(self, lookup: str, value: Any, request: HttpRequest) -> bool:
        if isinstance(value, str) and (problem := lookup_value_problem(lookup, value)):
            raise DisallowedModelAdminLookup(f"Filtering by {lookup}={value!r}: {problem}.")
        return bool(super().lookup_allowed(lookup, value, request))
