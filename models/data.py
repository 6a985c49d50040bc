"""FER2013-style npz loading, npz cache writing and the training augmentation (torchvision.transforms.v2)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset
from torchvision.transforms import v2

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "fer2013.npz"
TRAIN_SPLIT = "training"
SELECT_SPLIT = "publictest"
JPEG_QUALITY = (30, 90)  # webcam streams and re-encoded clips: from heavy to light compression
JPEG_P = 0.3
ALIGNED_P = 0.5  # share of samples drawn from the product-framed crop where one exists


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


def training_augmentation() -> v2.Compose:
    """Pose, framing, lighting, blur, compression and occlusion changes a webcam face goes through."""
    return v2.Compose(
        [
            v2.RandomHorizontalFlip(),
            v2.RandomApply([v2.JPEG(quality=JPEG_QUALITY)], p=JPEG_P),
            v2.RandomApply([v2.RandomAffine(degrees=12, translate=(0.08, 0.08), scale=(0.9, 1.12))], p=0.8),
            v2.RandomApply([v2.ColorJitter(brightness=0.35, contrast=0.35)], p=0.6),
            v2.RandomApply([v2.GaussianBlur(3, sigma=(0.1, 1.2))], p=0.2),
            v2.ToDtype(torch.float32, scale=True),
            v2.RandomErasing(p=0.25, scale=(0.02, 0.12)),
        ]
    )


class FaceDataset(Dataset):
    """(1, 48, 48) float faces in [0, 1] with optional augmentation; with `aligned`, each draw of a face is its
    product-framed crop (models.fer_crops) ALIGNED_P of the time, so the net learns both framings."""

    def __init__(
        self, faces: np.ndarray, labels: np.ndarray, augment: bool = False, aligned: np.ndarray | None = None
    ) -> None:
        self.faces = torch.from_numpy(faces).unsqueeze(1)
        self.aligned = None if aligned is None else torch.from_numpy(aligned).unsqueeze(1)
        self.labels = torch.from_numpy(labels)
        self.transform = training_augmentation() if augment else v2.ToDtype(torch.float32, scale=True)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        use_aligned = self.aligned is not None and torch.rand(()) < ALIGNED_P
        face = (self.aligned if use_aligned else self.faces)[index]
        return self.transform(face), self.labels[index]
