"""What every training, fitting and benchmark script shares at its edge: bad data or options end in one `error:` line
and exit 2 before any slow work where they can be seen up front, never in a traceback or after an hour of training
(the app's commands do the same through app.errors)."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from pathlib import Path

from app.arguments import number
from app.errors import AppError
from models.classifier import WeightsError

EXIT_BAD_INPUT = 2
# A missing or damaged file or folder (OSError, RealDataError and numpy's ValueError), a missing array or column
# (KeyError), a checkpoint that is not one (WeightsError), what the app's own loaders refuse (AppError).
SCRIPT_ERRORS: tuple[type[BaseException], ...] = (OSError, KeyError, ValueError, WeightsError, AppError)


def error_text(error: BaseException) -> str:
    """One line for the user: a KeyError without its quotes, an OSError as 'path: reason'."""
    if isinstance(error, KeyError) and error.args:
        return str(error.args[0])
    if isinstance(error, OSError) and error.strerror:
        return f"{error.filename}: {error.strerror}" if error.filename else error.strerror
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def run_script(work: Callable[[], int | None]) -> int:
    """The script's exit code: work()'s (0 when it returns None), or EXIT_BAD_INPUT with one `error:` line."""
    try:
        code = work()
    except SCRIPT_ERRORS as error:
        print(f"error: {error_text(error)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0 if code is None else code


def writable_file(path: Path) -> Path:
    """Refuses, before the work, an output that is a folder or whose folder cannot be made; creates the folder."""
    if path.is_dir():
        raise ValueError(f"{path} is a folder; give a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValueError(f"cannot create the folder of {path}: {error.strerror or error}") from None
    return path


def given_or_default(given: str | Path | None, default: Path, folder: bool) -> Path:
    """The path to read: the default (of ../shared, which may be missing: its section is then skipped), or the one
    the user typed, which must be there and be a folder (folder=True) or a file."""
    if given is None:
        return default
    given = Path(given)
    if not given.exists():
        raise FileNotFoundError(f"no such {'folder' if folder else 'file'}: {given}")
    if given.is_dir() != folder:
        raise ValueError(f"{given} is {'a file' if folder else 'a folder'}; give {'a folder' if folder else 'a file'}")
    return given


def existing_file(text: str) -> Path:
    """argparse type: a file to read (a checkpoint), checked before minutes of loading data."""
    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{'is a folder' if path.is_dir() else 'no such file'}: {text}")
    return path


def share(text: str) -> float:
    """argparse type: a share in [0, 1] (a mixing weight)."""
    value = number(text, float)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must lie in [0, 1], got {text}")
    return value


def drop_share(text: str) -> float:
    """argparse type: a share of frames dropped, in [0, 1): dropping every frame leaves nothing to score."""
    value = number(text, float)
    if not (0.0 <= value < 1.0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must lie in [0, 1), got {text}")
    return value
