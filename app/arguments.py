"""argparse types for numbers, shared by the app's commands and every script: a value that is no number, or is out of
range, is refused in one line that says what was expected (argparse's own line names the function instead:
"invalid positive_int value: 'abc'")."""

from __future__ import annotations

import argparse
import math


def number(text: str, kind: type[int] | type[float]) -> int | float:
    """`text` read as `kind`, or argparse's refusal naming what it is not."""
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a {'whole ' if kind is int else ''}number: {text!r}") from None


def positive_int(text: str) -> int:
    """A count of at least 1 (frames, workers, epochs), so that 0 or a negative number is a usage error rather than
    an empty run."""
    value = int(number(text, int))
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def non_negative_int(text: str) -> int:
    """A seed (numpy takes them only from 0 up), or a limit where 0 means none."""
    value = int(number(text, int))
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def positive_float(text: str) -> float:
    """A rate, so that 0, a negative number, nan or inf is a usage error, not times of nonsense."""
    value = float(number(text, float))
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a number above 0, got {text}")
    return value
