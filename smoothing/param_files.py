"""Reading a smoother's parameter file: a missing or damaged file is one error that names the file, raised when the
smoother is built (before any frame), never in the middle of a run."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path

import numpy as np

PARAMS_DIR = Path(__file__).resolve().parent / "params"  # every shipped smoother's fitted numbers, one file each
TRAIN_HINT = "make them with `python -m smoothing.fitting.train`"


class ParamsError(ValueError):
    """A smoother's parameter file is missing, damaged or not the one asked for."""


PARAMS_CACHE_SIZE = 32  # parameter files kept read: every shipped smoother's online and offline file fits


@functools.lru_cache(maxsize=PARAMS_CACHE_SIZE)
def _arrays_of(path: Path, mtime_ns: int, size: int) -> dict[str, np.ndarray]:
    """The npz's arrays, read-only, read once per version of the file (its mtime and size are in the key): every new
    face's smoother reads its file, and reading it took 0.5 ms of the frame the face appeared in."""
    with np.load(path) as data:
        arrays = {key: data[key] for key in data.files}
    for array in arrays.values():
        array.setflags(write=False)  # shared by every smoother built from the file
    return arrays


def read_params(path: str | Path, what: str, keys: Iterable[str]) -> dict[str, np.ndarray]:
    """Every array of the npz at `path` (`what` names it in errors, e.g. "HMM parameters"), read-only, with the `keys`
    checked."""
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"{what} not found: {path}; {TRAIN_HINT}")
    stat = path.stat()
    try:
        arrays = dict(_arrays_of(path.resolve(), stat.st_mtime_ns, stat.st_size))
    except Exception as error:  # numpy raises many types for a damaged file (BadZipFile, ValueError, EOFError, ...)
        raise ParamsError(f"cannot read {what} {path}: damaged or not an npz file ({type(error).__name__})") from None
    missing = [key for key in keys if key not in arrays]
    if missing:
        raise ParamsError(f"cannot read {what} {path}: it has no {', '.join(missing)}; {TRAIN_HINT}")
    return arrays
