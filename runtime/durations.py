"""The short durations operators type and read: `90s`, `30m`, `24h`, `7d`, `2w` (the
management commands' arguments and messages)."""

import re
from datetime import timedelta

UNITS: dict[str, timedelta] = {
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}

_DURATION = re.compile(r"(?P<amount>[0-9]+)(?P<unit>[smhdw])")

HELP = "a whole number and a unit: s (seconds), m (minutes), h (hours), d (days), w (weeks)"


def parse_duration(text: str) -> timedelta:
    """`24h` -> timedelta(hours=24). Only positive whole amounts of one unit are accepted.

    Raises:
        ValueError: anything else, with a message fit to show an operator.
    """
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"Invalid duration {text!r}: expected {HELP}, e.g. 90s, 30m, 24h, 7d, 2w.")
    amount = int(match["amount"])
    if amount == 0:
        raise ValueError(f"Invalid duration {text!r}: it must be longer than zero.")
    try:
        return amount * UNITS[match["unit"]]
    except OverflowError:
        raise ValueError(f"Invalid duration {text!r}: it is too long.") from None


def format_duration(seconds: int) -> str:
    """`86400` -> `24h`, `2592000` -> `30d`: in the largest unit up to days that divides it (as
    operators type it); weeks are left to the reader."""
    for unit in ("d", "h", "m"):
        size = int(UNITS[unit].total_seconds())
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
