"""Strict DRF fields: each takes only the JSON type the schema states."""

import re
from typing import Any

from rest_framework import serializers

# DRF's fields coerce what they can read: `0` and `"yes"` become booleans, `12` the string "12",
# `"7"` the integer 7. The schema states each field's JSON type, and bad input gets a 400 naming
# the field (as Pydantic's strict types refuse it in the ninja style), so these take only that.


class StrictCharField(serializers.CharField):
    """A JSON string only. `max_length` counts the string as sent, before any trimming."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")  # "Not a valid string."
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class StrictEmailField(StrictCharField, serializers.EmailField):
    """A JSON string that is an email address, taken as sent (no trimming)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)


class StrictBooleanField(serializers.BooleanField):
    """JSON `true` or `false` only."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")  # "Must be a valid boolean."
        return data


class StrictIntegerField(serializers.IntegerField):
    """A JSON number without a fraction: `3`, or `3.0` (JSON has one number type; ninja agrees)."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, float) and data.is_integer():
            data = int(data)
        if type(data) is not int:  # not a bool either
            self.fail("invalid")  # "A valid integer is required."
        return data


class QueryIntegerField(serializers.IntegerField):
    """An integer query parameter: ASCII digits with an optional sign, nothing else.

    DRF's IntegerField also reads `" 5"`, `"5.0"`, `"1_0"` and non-ASCII digits.
    """

    pattern = re.compile(r"[+-]?[0-9]+", re.ASCII)

    def to_internal_value(self, data: Any) -> int:
        if not isinstance(data, str) or not self.pattern.fullmatch(data):
            self.fail("invalid")
        return super().to_internal_value(data)


QUERY_POSITIVE_INTEGER = QueryIntegerField(min_value=1)
