"""Track ids follow faces by box overlap; each track has its own smoother, told about the frames its face misses."""

from __future__ import annotations

import numpy as np
import pytest

import smoothing
from app.offline import smooth_tracks_offline
from app.pipeline import FaceResult, FrameResult
from app.tracker import TRACK_TIMEOUT_S, FaceTracker, box_iou, match_boxes
from models.face_detector import Detection
from models.labels import CLASSES

FRAME_PERIOD_S = 1 / 30
HAPPY, SAD = CLASSES.index("happy"), CLASSES.index("sad")


def face(x: int, y: int = 50, size: int = 100, winner: int = HAPPY) -> FaceResult:
    probs = np.full(7, 0.05)
    probs[winner] = 0.7
    return FaceResult(Detection(x, y, size, size, 0.9), probs)


def frame(index: int, *faces: FaceResult, t: float | None = None) -> FrameResult:
    return FrameResult(index, index * FRAME_PERIOD_S if t is None else t, list(faces))


class RecordingSmoother:
    """A smoother that records what it was fed and believes the last face it saw."""

    def __init__(self) -> None:
        self.fed: list[tuple[np.ndarray | None, float]] = []

    def reset(self) -> None:
        self.fed.clear()

    def update(self, probs: np.ndarray | None, t: float) -> np.ndarray:
        self.fed.append((probs, t))
        return self.predict(t)

    def predict(self, t: float) -> np.ndarray:
        seen = [p for p, _ in self.fed if p is not None]
        return seen[-1] if seen else np.full(7, 1 / 7)


def test_iou_of_identical_disjoint_and_half_overlapping_boxes() -> None:
    a = Detection(0, 0, 10, 10, 1.0)
    iou = box_iou([a], [a, Detection(20, 0, 10, 10, 1.0), Detection(5, 0, 10, 10, 1.0)])
    np.testing.assert_allclose(iou, [[1.0, 0.0, 50 / 150]])


def test_matching_takes_the_best_total_overlap_and_drops_weak_pairs() -> None:
    old = [Detection(0, 0, 100, 100, 1.0), Detection(300, 0, 100, 100, 1.0)]
    new = [Detection(310, 5, 100, 100, 1.0), Detection(800, 0, 100, 100, 1.0), Detection(8, 0, 100, 100, 1.0)]
    assert sorted(match_boxes(old, new)) == [(0, 2), (1, 0)]


def test_a_moving_face_keeps_its_id() -> None:
    tracker = FaceTracker()
    ids = [tracker.update(frame(i, face(100 + 8 * i)))[0].track for i in range(60)]  # 8 px per frame, 240 px/s
    assert set(ids) == {0}


def test_a_short_absence_keeps_the_id_and_a_long_one_starts_a_new_track() -> None:
    tracker = FaceTracker()
    assert tracker.update(frame(0, face(100)))[0].track == 0
    tracker.update(frame(1))
    assert tracker.update(frame(2, face(104), t=TRACK_TIMEOUT_S / 2))[0].track == 0
    tracker.update(frame(3, t=TRACK_TIMEOUT_S))
    assert tracker.update(frame(4, face(104), t=TRACK_TIMEOUT_S * 2))[0].track == 1


def test_two_faces_keep_their_ids_whatever_order_the_detector_lists_them() -> None:
    tracker = FaceTracker()
    first = tracker.update(frame(0, face(50), face(400)))
    assert [f.track for f in first] == [0, 1]
    for i in range(1, 20):
        left, right = face(50 + 2 * i), face(400 - 2 * i)
        faces = (left, right) if i % 2 else (right, left)
        tracked = tracker.update(frame(i, *faces))
        assert {f.face.detection.x: f.track for f in tracked} == {50 + 2 * i: 0, 400 - 2 * i: 1}


def test_each_track_has_its_own_smoother_which_hears_about_missed_frames() -> None:
    made: list[RecordingSmoother] = []

    def new_smoother() -> RecordingSmoother:
        made.append(RecordingSmoother())
        return made[-1]

    tracker = FaceTracker(new_smoother)
    tracker.update(frame(0, face(50, winner=HAPPY), face(400, winner=SAD)))
    tracked = tracker.update(frame(1, face(52, winner=HAPPY)))  # the right face is missed
    assert len(made) == 2
    assert [p is None for p, _ in made[1].fed] == [False, True]
    assert made[1].fed[1][1] == pytest.approx(FRAME_PERIOD_S)
    assert tracked[0].shown_index == HAPPY
    tracker.update(frame(2, t=10.0))  # both expired by now: nothing more is fed
    assert len(made[0].fed) == 2 and len(made[1].fed) == 2


def test_real_smoothers_give_distributions_per_track() -> None:
    tracker = FaceTracker(lambda: smoothing.create("ema"))
    for i in range(10):
        tracked = tracker.update(frame(i, face(50, winner=HAPPY), face(400, winner=SAD)))
        for tracked_face in tracked:
            assert tracked_face.belief is not None
            assert tracked_face.belief.sum() == pytest.approx(1.0)
    assert [f.shown_index for f in tracked] == [HAPPY, SAD]


def test_offline_smoothing_fills_every_sighting_and_skips_the_gaps() -> None:
    results = [frame(0, face(50)), frame(1), frame(2, face(54), face(400, winner=SAD)), frame(3, face(56))]
    tracker = FaceTracker()
    tracked = [tracker.update(result) for result in results]
    smoothed = smooth_tracks_offline("ema", results, tracked)
    assert [[f.track for f in faces] for faces in smoothed] == [[0], [], [0, 1], [0]]
    for faces in smoothed:
        for tracked_face in faces:
            assert tracked_face.belief is not None and tracked_face.belief.sum() == pytest.approx(1.0)
    assert smoothed[2][1].shown_index == SAD
