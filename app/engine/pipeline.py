"""The one per-frame path of every mode (live, video, folder, API, benchmarks): detect the faces, classify them in
one batch, track them and smooth each track; each frame's result carries how long each stage took (spans_ns), the
way ultralytics' predictor profiles its steps, so that the latency benchmark times this very path."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from typing import Protocol

import numpy as np

import smoothing
from app.engine.results import FaceResult, FrameResult
from app.engine.tracker import FaceTracker
from models.align import align_faces
from models.face_detector import FaceDetector
from smoothing.labels import NUM_CLASSES

PIPELINE_STAGES = ("detect", "preprocess", "classify", "smooth")  # "smooth" includes matching faces to tracks


class Classifier(Protocol):
    """What the pipeline needs of models.EmotionClassifier; tests pass a stand-in."""

    def predict(self, faces: Sequence[np.ndarray]) -> np.ndarray: ...


class Pipeline:
    """Detector, aligner, classifier and tracker with one smoother per track (none when `smoother` is None); keeps
    the detector's and the tracks' state, so feed it one stream in order and reset() between streams. The tracks
    may be predicted from another thread while a frame is processed (the live view does): a lock keeps them whole."""

    def __init__(
        self, classifier: Classifier, smoother: str | None = None, detector: FaceDetector | None = None
    ) -> None:
        self.classifier = classifier
        self.detector = detector if detector is not None else FaceDetector()
        self.tracker = FaceTracker()
        self.smoother: str | None = None
        self._tracks_lock = threading.Lock()
        self.set_smoother(smoother)

    def set_smoother(self, name: str | None) -> None:
        """Every track (and every later one) gets a fresh smoother of that kind; None: raw probabilities only."""
        with self._tracks_lock:
            self.smoother = name
            self.tracker.set_smoother(None if name is None else lambda: smoothing.create(name))

    def reset(self) -> None:
        """A new stream: no remembered faces, no tracks."""
        self.detector.reset()
        with self._tracks_lock:
            self.tracker.reset()

    def process(self, index: int, t: float, frame: np.ndarray) -> FrameResult:
        """Detects the faces of one frame, classifies them together (one batch is cheaper than one per face), and
        gives each its track and smoothed belief; tracks without a face this frame are told so and come out
        predicted."""
        started = time.perf_counter_ns()
        detections = self.detector.detect(frame)
        detected = aligned = classified = time.perf_counter_ns()
        probs = np.empty((0, NUM_CLASSES))
        if detections:  # no face: nothing to crop or classify
            crops = align_faces(frame, detections)
            aligned = time.perf_counter_ns()
            probs = self.classifier.predict(crops)
            classified = time.perf_counter_ns()
        valid = np.isfinite(probs).all(axis=1)  # a broken input or weights give NaN: report it, keep it from smoothers
        found = [FaceResult(d, p) for d, p, ok in zip(detections, probs, valid, strict=True) if ok]
        with self._tracks_lock:
            faces, missed = self.tracker.update(t, found)
        smoothed = time.perf_counter_ns()
        spans = {"detect": detected - started, "preprocess": aligned - detected,
                 "classify": classified - aligned, "smooth": smoothed - classified}  # fmt: skip
        unclassified = [d for d, ok in zip(detections, valid, strict=True) if not ok]
        return FrameResult(index, t, faces, unclassified=unclassified, spans_ns=spans, predicted=missed)

    def predict(self, index: int, t: float) -> FrameResult:
        """A frame not analysed (yet): each live track at its last box with its belief predicted to t, changing
        nothing."""
        with self._tracks_lock:
            return FrameResult(index, t, predicted=self.tracker.predict(t))

    def skip(self, index: int, t: float) -> FrameResult:
        """A frame not looked at (dropped): predicted, and the tracks' smoothers bridge the gap at the next frame."""
        return replace(self.predict(index, t), dropped=True)

    def run(
        self, frames: Iterable[tuple[int, float, np.ndarray]], drop: float = 0.0, seed: int = 0
    ) -> Iterator[tuple[FrameResult, np.ndarray]]:
        """A new stream's results, each with its frame (for drawing); with `drop`, that share of the frames, drawn
        at random (seeded), comes out as dropped results, to see how smoothing copes with lost frames."""
        rng = np.random.default_rng(seed)
        self.reset()
        for index, t, frame in frames:
            if drop > 0 and rng.random() < drop:
                yield self.skip(index, t), frame
            else:
                yield self.process(index, t, frame), frame
