"""What the pipeline says of each frame: the one record that the window, the CSV, the video, the reports, the API
and the benchmarks all read, so that none of them recomputes or reinterprets a frame."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from models.face_detector import Detection
from smoothing.labels import CLASSES


@dataclass(frozen=True)
class FaceResult:
    """One face: its box and landmarks, its raw (7,) probabilities in CLASSES order and, once tracked, its track id
    and (when smoothing) its track's smoothed (7,) belief. A predicted face (a live track whose face the frame did
    not show) has its track's last box, no raw probabilities (None) and the belief predicted to the frame's time."""

    detection: Detection
    probs: np.ndarray | None
    track: int | None = None
    belief: np.ndarray | None = None

    @property
    def observed(self) -> bool:
        """Whether the face was seen in this frame (raw probabilities of its own), rather than predicted."""
        return self.probs is not None

    @property
    def label_index(self) -> int:
        """The raw classifier's top class."""
        return int(np.argmax(self.probs))

    @property
    def label(self) -> str:
        return CLASSES[self.label_index]

    @property
    def shown_probs(self) -> np.ndarray:
        """What to show: the smoothed belief when smoothing, else the raw probabilities."""
        return self.belief if self.belief is not None else self.probs

    @property
    def shown_index(self) -> int:
        return int(np.argmax(self.shown_probs))


@dataclass(frozen=True)
class FrameResult:
    """Everything found in one frame; `faces` is empty for a frame without a face and for a dropped one (a frame
    skipped, not looked at: by --drop, or by real-time processing that could not keep up). `unclassified` holds the
    faces found whose classification failed (not finite): reported, never tracked or smoothed. `spans_ns` holds how
    long each of the pipeline's stages took on it (empty for a dropped frame). `predicted` holds the live tracks
    (seen within their grace period) whose face this frame did not show: missed by the detector, or the frame
    dropped."""

    index: int
    t: float
    faces: list[FaceResult] = field(default_factory=list)
    dropped: bool = False
    unclassified: list[Detection] = field(default_factory=list)
    spans_ns: dict[str, int] = field(default_factory=dict)
    predicted: list[FaceResult] = field(default_factory=list)

    @property
    def shown_faces(self) -> list[FaceResult]:
        """What the CSV and the pictures show: the faces seen, then each live track predicted to t (when smoothing;
        a prediction without a belief has nothing to show)."""
        return [*self.faces, *(face for face in self.predicted if face.belief is not None)]
