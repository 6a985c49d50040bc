"""Loading the classifier for the app: torch is imported only here, and a bad file becomes a one-line error."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from app.errors import AppError

if TYPE_CHECKING:
    from models.classifier import EmotionClassifier

# Two torch threads: on an idle 2-core CPU a face costs 1.1 ms with two and 1.7 ms with one, four faces 3.3 and
# 5.6 ms (flip-averaged int8 EmoNet; float32: 3.6 / 6.3 ms). Detection and classification run one after the other,
# so the threads do not compete with OpenCV's; only outside load on every core makes a second thread a loss.
CLASSIFIER_THREADS = 2


def load_weights(path: str | None, threads: int = CLASSIFIER_THREADS) -> EmotionClassifier:
    """The classifier from a checkpoint (default: the shipped one), with `threads` torch threads."""
    import torch

    from models.classifier import WeightsError, load_classifier

    if path is not None and not isinstance(path, str | Path):
        raise AppError(f"weights must be a checkpoint's path (str or Path), got {type(path).__name__}")
    torch.set_num_threads(threads)
    try:
        return load_classifier(path)
    except WeightsError as error:
        raise AppError(str(error)) from None
