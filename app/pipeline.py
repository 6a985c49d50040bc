"""Per frame: detect the faces, classify all of them in one batch, and return one result per face; each call also
times its own stages (spans_ns), the way ultralytics' predictor profiles its steps, so that the latency benchmark
times this very path."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from models.align import align_faces
from models.face_detector import Detection, FaceDetector
from models.labels import CLASSES

PIPELINE_STAGES = ("detect", "preprocess", "classify")


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
    """Everything found in one frame; `faces` is empty for a frame without a face and for a dropped one (a frame
    skipped, not looked at: by --drop, or by real-time playback that could not keep up)."""

    index: int
    t: float
    faces: list[FaceResult] = field(default_factory=list)
    dropped: bool = False


class Pipeline:
    """Detector, aligner and classifier; keeps the detector's tracking state, so feed it one stream in order."""

    def __init__(self, classifier: Classifier, detector: FaceDetector | None = None) -> None:
        self.classifier = classifier
        self.detector = detector if detector is not None else FaceDetector()
        self.started_ns = 0  # when the last process() call began, and when each of its stages ended (perf_counter_ns)
        self.stage_ends_ns: dict[str, int] = dict.fromkeys(PIPELINE_STAGES, 0)

    @property
    def spans_ns(self) -> dict[str, int]:
        """How long each stage of the last process() call took."""
        starts = [self.started_ns, *(self.stage_ends_ns[stage] for stage in PIPELINE_STAGES[:-1])]
        return {stage: self.stage_ends_ns[stage] - begun for stage, begun in zip(PIPELINE_STAGES, starts, strict=True)}

    def process(self, index: int, t: float, frame: np.ndarray) -> FrameResult:
        """Detects the faces of one frame and classifies them together: one batch is cheaper than one per face."""
        self.started_ns = time.perf_counter_ns()
        detections = self.detector.detect(frame)
        detected = time.perf_counter_ns()
        if not detections:
            self.stage_ends_ns = dict.fromkeys(PIPELINE_STAGES, detected)
            return FrameResult(index, t, [])
        crops = align_faces(frame, detections)
        aligned = time.perf_counter_ns()
        probs = self.classifier.predict(crops)
        self.stage_ends_ns = {"detect": detected, "preprocess": aligned, "classify": time.perf_counter_ns()}
        return FrameResult(index, t, [FaceResult(d, p) for d, p in zip(detections, probs, strict=True)])

    def run(
        self, frames: Iterable[tuple[int, float, np.ndarray]], drop: float = 0.0, seed: int = 0
    ) -> Iterator[tuple[FrameResult, np.ndarray]]:
        """Yields each frame's result with the frame itself, for drawing; with `drop`, that share of the frames,
        drawn at random (seeded), comes out as dropped results, to see how smoothing copes with lost frames."""
        rng = np.random.default_rng(seed)
        self.detector.reset()
        for index, t, frame in frames:
            if drop > 0 and rng.random() < drop:
                yield FrameResult(index, t, [], dropped=True), frame
            else:
                yield self.process(index, t, frame), frame
