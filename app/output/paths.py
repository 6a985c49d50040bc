"""Output paths: checked and created before slow work starts, and shown the way the user would type them."""

from __future__ import annotations

from pathlib import Path

from app.errors import AppError


def shown(path: Path) -> str:
    """The path as the user would type it: relative to the current directory when it lies below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def prepare_output(path: Path, source: Path | None = None) -> Path:
    """Creates the parent folder and refuses to overwrite the input (a video, a table)."""
    if source is not None and path.resolve() == source.resolve():
        raise AppError(f"output {path} would overwrite the input {source}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise AppError(f"cannot create folder {path.parent}: {error.strerror or error}") from None
    if path.is_dir():
        raise AppError(f"cannot write {path}: it is a folder")
    return path
