"""Numbers read from environment variables, checked once where they are read.

A value a run cannot use (a word, a negative wait, `nan`) is refused with one line naming the
variable and what it takes, instead of failing later with Python's own message about a string.
Standard library only.
"""

from __future__ import annotations

import math
import os


def seconds_setting(name: str, default: float, whole: bool = False) -> float:
    """A number of seconds from the environment variable `name` (`default` when unset):
    whole and at least 1 if `whole`, else any finite number from 0. Anything else is refused
    with a line naming the variable."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value) if whole else float(value)
    except ValueError:
        number = None
    least = 1 if whole else 0
    if number is None or not math.isfinite(number) or number < least:
        kind = "a whole number" if whole else "a number"
        raise ValueError(
            f"{name}={value!r}: give {kind} of seconds, at least {least} (default {default:g})"
        )
    return number
