"""FER2013-style npz loading and npz cache writing (the training augmentation is models.training.augment)."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from models.roots import SHARED_DATA
from smoothing.labels import NUM_CLASSES

DEFAULT_DATA = SHARED_DATA / "fer2013.npz"
TRAIN_SPLIT = "training"
SELECT_SPLIT = "publictest"


@contextmanager
def opened_npz(path: Path) -> Iterator[np.lib.npyio.NpzFile]:
    """np.load of an .npz archive, where a damaged file (empty, cut short, not an archive, pickled objects) is one
    ValueError naming it instead of numpy's or zipfile's traceback."""
    try:
        data = np.load(path)
    except (EOFError, OSError, ValueError, zipfile.BadZipFile) as error:
        raise ValueError(f"{path} is not a readable .npz archive ({error})") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ValueError(f"{path} holds a single array, not an .npz archive of named arrays")
    with data:
        try:
            yield data
        except (EOFError, OSError, ValueError, zipfile.BadZipFile) as error:
            raise ValueError(f"{path} is damaged: {error}") from None


def load_split(path: str | Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Returns (N, 48, 48) uint8 faces and (N,) int labels of one split, with a one-line error when absent."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"dataset not found: {path}")
    with opened_npz(path) as data:
        x_key, y_key = f"x_{split}", f"y_{split}"
        if x_key not in data or y_key not in data:
            splits = sorted(k[2:] for k in data.files if k.startswith("x_"))
            raise KeyError(f"split '{split}' not in {path.name}; available: {', '.join(splits) or 'none'}")
        faces, labels = data[x_key], data[y_key]
    if faces.ndim != 3 or faces.dtype != np.uint8 or labels.ndim != 1 or len(faces) != len(labels) or not len(faces):
        raise ValueError(f"{path.name}:{split} must hold uint8 (N, H, W) faces and N labels, N at least 1")
    if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() >= NUM_CLASSES:
        raise ValueError(f"{path.name}:{split} labels must be whole numbers 0-{NUM_CLASSES - 1}")
    return faces, labels.astype(np.int64)


def save_npz_atomically(path: Path, **arrays: np.ndarray) -> None:
    """Writes a cache entry whole or not at all: a run cut short never leaves a half-written file under `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp.npz")
    np.savez(partial, **arrays)
    partial.replace(path)
