"""Per frame: detect the faces, classify all of them in one batch, and return one result per face."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from models.align import align_faces
from models.face_detector import Detection, FaceDetector
from models.labels import CLASSES


class Classifier(Protocol):
    """What the pipeline needs of models.EmotionClassifier; tests pass a stand-in."""

    def predict(self, faces: Sequence[np.ndarray]) -> np.ndarray: ...


@dataclass(frozen=True)
class FaceResult:
    """One face: its box and its (7,) probabilities in models.CLASSES order."""

    detection: Detection
    probs: np.ndarray

    @property
    def label_index(self) -> int:
        return int(np.argmax(self.probs))

    @property
    def label(self) -> str:
        return CLASSES[self.label_index]


@dataclass(frozen=True)
class FrameResult:
    """Everything found in one frame; `faces` is empty for a frame without a face."""

    index: int
    t: float
    faces: list[FaceResult] = field(default_factory=list)


class Pipeline:
    """Detector, aligner and classifier; keeps the detector's tracking state, so feed it one stream in order."""

    def __init__(self, classifier: Classifier, detector: FaceDetector | None = None) -> None:
        self.classifier = classifier
        self.detector = detector if detector is not None else FaceDetector()

    def process(self, index: int, t: float, frame: np.ndarray) -> FrameResult:
        """Detects the faces of one frame and classifies them together: one batch is cheaper than one per face."""
        detections = self.detector.detect(frame)
        if not detections:
            return FrameResult(index, t, [])
        probs = self.classifier.predict(align_faces(frame, detections))
        return FrameResult(index, t, [FaceResult(d, p) for d, p in zip(detections, probs, strict=True)])

    def run(self, frames: Iterable[tuple[int, float, np.ndarray]]) -> Iterator[tuple[FrameResult, np.ndarray]]:
        """Yields each frame's result with the frame itself, for drawing."""
        self.detector.reset()
        for index, t, frame in frames:
            yield self.process(index, t, frame), frame
