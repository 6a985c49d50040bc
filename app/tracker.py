"""Face tracking by box overlap, so that each face keeps one id, and one smoother, from frame to frame.

Small and ultralytics-style: each frame's boxes are matched to the tracks' last boxes by intersection over union
(Hungarian assignment); a track that sees no face for longer than TRACK_TIMEOUT_S seconds ends, and a face seen
after that starts a fresh track with a fresh smoother.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from app.pipeline import FaceResult, FrameResult
from models.face_detector import Detection
from smoothing import Smoother

# Seconds a track waits for its face: longer than the detector's usual misses (a blink, a turned head, a hand
# in front for a moment), short enough that someone else stepping into the same spot soon after gets a new id.
TRACK_TIMEOUT_S = 2.0
# Boxes of one face in consecutive frames overlap far more than this even when the head moves fast; two
# different faces side by side overlap less.
MIN_IOU = 0.3


@dataclass(frozen=True)
class TrackedFace:
    """One face of a frame with its track id and, when smoothing, its track's smoothed (7,) belief."""

    track: int
    face: FaceResult
    belief: np.ndarray | None = None

    @property
    def shown_index(self) -> int:
        """The class to show: the smoothed one when smoothing, else the raw one."""
        return int(np.argmax(self.belief)) if self.belief is not None else self.face.label_index


@dataclass
class Track:
    """A face followed over time: its last box, when it was last seen, and its own smoother."""

    id: int
    box: Detection
    last_seen: float
    smoother: Smoother | None


def box_iou(a: Sequence[Detection], b: Sequence[Detection]) -> np.ndarray:
    """(len(a), len(b)) intersection over union of every pair of boxes."""
    if not a or not b:
        return np.zeros((len(a), len(b)))
    first = np.array([(d.x, d.y, d.x + d.w, d.y + d.h) for d in a], dtype=np.float64)[:, None, :]
    second = np.array([(d.x, d.y, d.x + d.w, d.y + d.h) for d in b], dtype=np.float64)[None, :, :]
    width = np.clip(np.minimum(first[..., 2], second[..., 2]) - np.maximum(first[..., 0], second[..., 0]), 0, None)
    height = np.clip(np.minimum(first[..., 3], second[..., 3]) - np.maximum(first[..., 1], second[..., 1]), 0, None)
    inter = width * height
    area_a = (first[..., 2] - first[..., 0]) * (first[..., 3] - first[..., 1])
    area_b = (second[..., 2] - second[..., 0]) * (second[..., 3] - second[..., 1])
    union = area_a + area_b - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def match_boxes(old: Sequence[Detection], new: Sequence[Detection], min_iou: float = MIN_IOU) -> list[tuple[int, int]]:
    """(old index, new index) pairs of the assignment with the largest total overlap, each pair above min_iou."""
    iou = box_iou(old, new)
    if iou.size == 0:
        return []
    rows, cols = linear_sum_assignment(iou, maximize=True)
    return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if iou[r, c] >= min_iou]


class FaceTracker:
    """Gives each face of a frame a stable track id and, with a smoother factory, feeds each track's smoother."""

    def __init__(
        self,
        new_smoother: Callable[[], Smoother] | None = None,
        timeout_s: float = TRACK_TIMEOUT_S,
        min_iou: float = MIN_IOU,
    ) -> None:
        self.new_smoother = new_smoother
        self.timeout_s = timeout_s
        self.min_iou = min_iou
        self.tracks: list[Track] = []
        self._next_id = 0

    def update(self, result: FrameResult) -> list[TrackedFace]:
        """The frame's faces, in result.faces order, with track ids; tracks without a face get update(None, t)."""
        t = result.t
        self.tracks = [track for track in self.tracks if t - track.last_seen <= self.timeout_s]
        boxes = [face.detection for face in result.faces]
        pairs = dict((new, old) for old, new in match_boxes([tr.box for tr in self.tracks], boxes, self.min_iou))
        matched_tracks = set(pairs.values())
        for index, track in enumerate(self.tracks):
            if index not in matched_tracks and track.smoother is not None:
                track.smoother.update(None, t)
        tracked = []
        for index, face in enumerate(result.faces):
            if index in pairs:
                track = self.tracks[pairs[index]]
            else:
                smoother = self.new_smoother() if self.new_smoother is not None else None
                track = Track(self._next_id, face.detection, t, smoother)
                self._next_id += 1
                self.tracks.append(track)
            track.box, track.last_seen = face.detection, t
            belief = track.smoother.update(face.probs, t) if track.smoother is not None else None
            tracked.append(TrackedFace(track.id, face, belief))
        return tracked

    def set_smoother(self, new_smoother: Callable[[], Smoother] | None) -> None:
        """Switches every track to a fresh smoother of another kind (the live app's number keys)."""
        self.new_smoother = new_smoother
        for track in self.tracks:
            track.smoother = new_smoother() if new_smoother is not None else None
