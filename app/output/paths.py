"""Output paths: checked and created before slow work starts, and shown the way the user would type them."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from app.errors import AppError


def shown(path: Path) -> str:
    """The path as the user would type it: relative to the current directory when it lies below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file: the same path once resolved (links followed), or one existing file under two
    names (a hard link)."""
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # either does not exist (yet): then they are not one file
        return False


def check_outputs(outputs: Sequence[Path], inputs: Iterable[Path] = ()) -> None:
    """Refuses, before any work, an output that is an input under any name, and two outputs that are one file (the
    second would silently replace the first)."""
    inputs = list(inputs)
    for number, path in enumerate(outputs):
        for source in inputs:
            if same_file(path, source):
                raise AppError(f"output {path} would overwrite the input {source}")
        for earlier in outputs[:number]:
            if same_file(path, earlier):
                named = f"{path} is named" if str(path) == str(earlier) else f"{earlier} and {path} are one file,"
                raise AppError(f"{named} for two outputs; give each output its own file")


def prepare_output(path: Path, source: Path | None = None) -> Path:
    """Creates the parent folder and refuses to overwrite the input (a video, a table)."""
    check_outputs([path], [] if source is None else [source])
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise AppError(f"cannot create folder {path.parent}: {error.strerror or error}") from None
    if path.is_dir():
        raise AppError(f"cannot write {path}: it is a folder")
    return path
