"""FER2013-style npz loading and npz cache writing (the training augmentation is models.training.augment)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from models.roots import SHARED_DATA

DEFAULT_DATA = SHARED_DATA / "fer2013.npz"
TRAIN_SPLIT = "training"
SELECT_SPLIT = "publictest"


def load_split(path: str | Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Returns (N, 48, 48) uint8 faces and (N,) int labels of one split, with a one-line error when absent."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"dataset not found: {path}")
    with np.load(path) as data:
        x_key, y_key = f"x_{split}", f"y_{split}"
        if x_key not in data or y_key not in data:
            splits = sorted(k[2:] for k in data.files if k.startswith("x_"))
            raise KeyError(f"split '{split}' not in {path.name}; available: {', '.join(splits)}")
        faces, labels = data[x_key], data[y_key].astype(np.int64)
    if faces.ndim != 3 or faces.dtype != np.uint8 or len(faces) != len(labels):
        raise ValueError(f"{path.name}:{split} must hold uint8 (N, H, W) faces and N labels")
    return faces, labels


def save_npz_atomically(path: Path, **arrays: np.ndarray) -> None:
    """Writes a cache entry whole or not at all: a run cut short never leaves a half-written file under `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp.npz")
    np.savez(partial, **arrays)
    partial.replace(path)
