"""Face tracking by box overlap, so that each face keeps one id, and one smoother, from frame to frame.

Small and ultralytics-style: each frame's boxes are matched by intersection over union (Hungarian assignment) to
where each track's box is predicted to be now, its last box moved on at the track's recent speed, so that two
faces crossing each other keep their ids; a track that sees no face for longer than TRACK_TIMEOUT_S seconds ends,
and a face seen after that starts a fresh track with a fresh smoother.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import linear_sum_assignment

from app.engine.results import FaceResult
from models.boxes import Box, iou_matrix
from models.face_detector import Detection
from smoothing import Smoother

# Seconds a track waits for its face: longer than the detector's usual misses (a blink, a turned head, a hand
# in front for a moment), short enough that someone else stepping into the same spot soon after gets a new id.
TRACK_TIMEOUT_S = 2.0
# Boxes of one face in consecutive frames overlap far more than this even when the head moves fast; two
# different faces side by side overlap less.
MIN_IOU = 0.3
# Velocity of a box centre (px/s) is an exponential average over updates with this weight on the newest step: one
# jittery box barely moves it, a head that starts moving is followed within a few frames.
VELOCITY_WEIGHT = 0.5
# A track's box is carried on at its speed for at most this long: long enough to cross behind another face, short
# enough that a face which stopped while hidden is still near its predicted box.
MAX_PREDICT_S = 0.5


@dataclass
class Track:
    """A face followed over time: its last box, when it was last seen, and its own smoother."""

    id: int
    box: Detection
    last_seen: float
    smoother: Smoother | None
    velocity: tuple[float, float] = (0.0, 0.0)  # px/s of the box centre

    def predicted(self, t: float) -> Box:
        """(x, y, w, h) where the box is expected at time t, at the track's recent speed."""
        ahead = min(max(t - self.last_seen, 0.0), MAX_PREDICT_S)
        return (self.box.x + self.velocity[0] * ahead, self.box.y + self.velocity[1] * ahead, self.box.w, self.box.h)

    def see(self, box: Detection, t: float) -> None:
        """Moves the track to a new box, updating its speed from the step since it was last seen."""
        dt = t - self.last_seen
        if dt > 0:
            step = (
                (box.x + box.w / 2 - self.box.x - self.box.w / 2) / dt,
                (box.y + box.h / 2 - self.box.y - self.box.h / 2) / dt,
            )
            self.velocity = tuple(
                (1 - VELOCITY_WEIGHT) * old + VELOCITY_WEIGHT * new
                for old, new in zip(self.velocity, step, strict=True)
            )
        self.box, self.last_seen = box, t

    def estimate(self, belief: np.ndarray | None) -> FaceResult:
        """The track as a predicted face: its last box, no raw probabilities, the given belief."""
        return FaceResult(self.box, None, self.id, belief)

    def missed(self, t: float) -> FaceResult:
        """An analysed frame without this track's face: its smoother is told so (update(None, t)), and the belief
        that gives, the one predict(t) gives, is the predicted face's."""
        return self.estimate(self.smoother.update(None, t) if self.smoother is not None else None)

    def foreseen(self, t: float) -> FaceResult:
        """The predicted face at time t without telling the smoother anything (a dropped or not yet analysed frame)."""
        return self.estimate(self.smoother.predict(t) if self.smoother is not None else None)


def match_boxes(old: Sequence[Box], new: Sequence[Box], min_iou: float = MIN_IOU) -> list[tuple[int, int]]:
    """(old index, new index) pairs of the assignment with the largest total overlap, each pair above min_iou."""
    iou = iou_matrix(old, new)
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

    def update(self, t: float, faces: Sequence[FaceResult]) -> tuple[list[FaceResult], list[FaceResult]]:
        """The faces seen at time t, in their order, with track ids and (with smoothers) smoothed beliefs; and the
        live tracks without a face, as predicted faces: their smoothers get update(None, t), whose belief is the one
        predict(t) gives."""
        self.tracks = [track for track in self.tracks if t - track.last_seen <= self.timeout_s]
        boxes = [face.detection.box for face in faces]
        predicted = [track.predicted(t) for track in self.tracks]
        pairs = dict((new, old) for old, new in match_boxes(predicted, boxes, self.min_iou))
        matched_tracks = set(pairs.values())
        missed = [track.missed(t) for index, track in enumerate(self.tracks) if index not in matched_tracks]
        tracked = []
        for index, face in enumerate(faces):
            if index in pairs:
                track = self.tracks[pairs[index]]
            else:
                smoother = self.new_smoother() if self.new_smoother is not None else None
                track = Track(self._next_id, face.detection, t, smoother)
                self._next_id += 1
                self.tracks.append(track)
            track.see(face.detection, t)
            belief = track.smoother.update(face.probs, t) if track.smoother is not None else None
            tracked.append(replace(face, track=track.id, belief=belief))
        return tracked, missed

    def predict(self, t: float) -> list[FaceResult]:
        """Every track still live at time t (seen within the timeout) as a predicted face, its belief predicted to t
        by its smoother; changes nothing (a dropped frame, or a frame shown before it is analysed)."""
        return [track.foreseen(t) for track in self.tracks if t - track.last_seen <= self.timeout_s]

    def reset(self) -> None:
        """Forgets every track; ids start again at 0."""
        self.tracks = []
        self._next_id = 0

    def set_smoother(self, new_smoother: Callable[[], Smoother] | None) -> None:
        """Switches every track to a fresh smoother of another kind (the live app's number keys)."""
        self.new_smoother = new_smoother
        for track in self.tracks:
            track.smoother = new_smoother() if new_smoother is not None else None


class IndexTracker:
    """Tracks the faces of a table without boxes by the index the table gives each (face 0, face 1, ...): face i is
    track i, with its own smoother; like FaceTracker, a track unseen for longer than timeout_s ends, so face i seen
    after that starts afresh, and the live tracks a frame lacks come out predicted."""

    def __init__(self, new_smoother: Callable[[], Smoother] | None = None, timeout_s: float = TRACK_TIMEOUT_S) -> None:
        self.new_smoother = new_smoother
        self.timeout_s = timeout_s
        self.tracks: dict[int, Track] = {}

    def update(
        self, t: float, faces: Sequence[FaceResult], keys: Sequence[int]
    ) -> tuple[list[FaceResult], list[FaceResult]]:
        """As FaceTracker.update, the faces matched to tracks by their keys (each face's index) instead of boxes."""
        self.tracks = {key: track for key, track in self.tracks.items() if t - track.last_seen <= self.timeout_s}
        missed = [track.missed(t) for key, track in self.tracks.items() if key not in keys]
        tracked = []
        for face, key in zip(faces, keys, strict=True):
            if key not in self.tracks:
                smoother = self.new_smoother() if self.new_smoother is not None else None
                self.tracks[key] = Track(key, face.detection, t, smoother)
            track = self.tracks[key]
            track.see(face.detection, t)
            belief = track.smoother.update(face.probs, t) if track.smoother is not None else None
            tracked.append(replace(face, track=key, belief=belief))
        return tracked, missed

    def predict(self, t: float) -> list[FaceResult]:
        """As FaceTracker.predict: the live tracks at time t, predicted, changing nothing (a dropped frame)."""
        return [track.foreseen(t) for track in self.tracks.values() if t - track.last_seen <= self.timeout_s]
