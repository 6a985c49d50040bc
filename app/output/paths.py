"""Output paths: checked and created before slow work starts, and shown the way the user would type them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from app.errors import AppError


def shown(path: Path) -> str:
    """The path as the user would type it: relative to the current directory when it lies below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def folder_files(folder: Path) -> list[Path]:
    """The files a folder holds for a run: not its subfolders, not its hidden files (`.DS_Store`, macOS's `._NAME`
    copies of a file's metadata, which carry a photo's or video's ending), but its broken links, which the run then
    reports as unreadable instead of leaving them out unsaid."""
    return [
        path
        for path in folder.iterdir()
        if not path.name.startswith(".") and (path.is_file() or (path.is_symlink() and not path.exists()))
    ]


def file_identity(path: Path) -> tuple[int, int] | Path:
    """What two names of one file share: the device and inode of an existing file (hard links too), else the path
    resolved (links followed)."""
    try:
        stat = path.stat()
    except OSError:
        return path.resolve()
    return stat.st_dev, stat.st_ino


def check_outputs(outputs: Sequence[Path], inputs: Iterable[Path] = ()) -> None:
    """Refuses, before any work, an output that is an input under any name, and two outputs that are one file (the
    second would silently replace the first). One look at each path: a folder of thousands of photos stays quick."""
    sources = {file_identity(source): source for source in inputs}
    written: dict[tuple[int, int] | Path, Path] = {}
    for path in outputs:
        identity = file_identity(path)
        if identity in sources:
            raise AppError(f"output {path} would overwrite the input {sources[identity]}")
        if identity in written:
            earlier = written[identity]
            named = f"{path} is named" if str(path) == str(earlier) else f"{earlier} and {path} are one file,"
            raise AppError(f"{named} for two outputs; give each output its own file")
        written[identity] = path


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
