"""Track ids follow faces by box overlap; each track has its own smoother, told about the frames its face misses."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

import smoothing
from app.engine.offline import smooth_tracks_offline
from app.engine.results import FaceResult, FrameResult
from app.engine.tracker import TRACK_TIMEOUT_S, FaceTracker, match_boxes
from models.boxes import iou_matrix
from models.face_detector import Detection, FaceDetector
from smoothing.labels import CLASSES
from tests.conftest import FACE_PATCH

FRAME_PERIOD_S = 1 / 30
HAPPY, SAD = CLASSES.index("happy"), CLASSES.index("sad")


def face(x: int, y: int = 50, size: int = 100, winner: int = HAPPY) -> FaceResult:
    probs = np.full(7, 0.05)
    probs[winner] = 0.7
    return FaceResult(Detection(x, y, size, size, 0.9), probs)


def frame(index: int, *faces: FaceResult, t: float | None = None) -> FrameResult:
    return FrameResult(index, index * FRAME_PERIOD_S if t is None else t, list(faces))


def track(tracker: FaceTracker, result: FrameResult) -> list[FaceResult]:
    """The frame's faces with their track ids, as the pipeline's smooth stage gives them."""
    seen, _ = tracker.update(result.t, result.faces)
    return seen


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
    a = (0, 0, 10, 10)
    iou = iou_matrix([a], [a, (20, 0, 10, 10), (5, 0, 10, 10)])
    np.testing.assert_allclose(iou, [[1.0, 0.0, 50 / 150]])


def test_matching_takes_the_best_total_overlap_and_drops_weak_pairs() -> None:
    old = [(0, 0, 100, 100), (300, 0, 100, 100)]
    new = [(310, 5, 100, 100), (800, 0, 100, 100), (8, 0, 100, 100)]
    assert sorted(match_boxes(old, new)) == [(0, 2), (1, 0)]


def test_a_moving_face_keeps_its_id() -> None:
    tracker = FaceTracker()
    ids = [track(tracker, frame(i, face(100 + 8 * i)))[0].track for i in range(60)]  # 8 px per frame, 240 px/s
    assert set(ids) == {0}


def test_a_short_absence_keeps_the_id_and_a_long_one_starts_a_new_track() -> None:
    tracker = FaceTracker()
    assert track(tracker, frame(0, face(100)))[0].track == 0
    track(tracker, frame(1))
    assert track(tracker, frame(2, face(104), t=TRACK_TIMEOUT_S / 2))[0].track == 0
    track(tracker, frame(3, t=TRACK_TIMEOUT_S))
    assert track(tracker, frame(4, face(104), t=TRACK_TIMEOUT_S * 2))[0].track == 1


def test_two_faces_keep_their_ids_whatever_order_the_detector_lists_them() -> None:
    tracker = FaceTracker()
    first = track(tracker, frame(0, face(50), face(400)))
    assert [f.track for f in first] == [0, 1]
    for i in range(1, 20):
        left, right = face(50 + 2 * i), face(400 - 2 * i)
        faces = (left, right) if i % 2 else (right, left)
        tracked = track(tracker, frame(i, *faces))
        assert {f.detection.x: f.track for f in tracked} == {50 + 2 * i: 0, 400 - 2 * i: 1}


def test_each_track_has_its_own_smoother_which_hears_about_missed_frames() -> None:
    made: list[RecordingSmoother] = []

    def new_smoother() -> RecordingSmoother:
        made.append(RecordingSmoother())
        return made[-1]

    tracker = FaceTracker(new_smoother)
    track(tracker, frame(0, face(50, winner=HAPPY), face(400, winner=SAD)))
    tracked = track(tracker, frame(1, face(52, winner=HAPPY)))  # the right face is missed
    assert len(made) == 2
    assert [p is None for p, _ in made[1].fed] == [False, True]
    assert made[1].fed[1][1] == pytest.approx(FRAME_PERIOD_S)
    assert tracked[0].shown_index == HAPPY
    track(tracker, frame(2, t=10.0))  # both expired by now: nothing more is fed
    assert len(made[0].fed) == 2 and len(made[1].fed) == 2


def test_real_smoothers_give_distributions_per_track() -> None:
    tracker = FaceTracker(lambda: smoothing.create("ema"))
    for i in range(10):
        tracked = track(tracker, frame(i, face(50, winner=HAPPY), face(400, winner=SAD)))
        for tracked_face in tracked:
            assert tracked_face.belief is not None
            assert tracked_face.belief.sum() == pytest.approx(1.0)
    assert [f.shown_index for f in tracked] == [HAPPY, SAD]


def test_a_missed_face_comes_out_predicted_at_its_last_box_with_the_belief_predict_gave() -> None:
    tracker = FaceTracker(lambda: smoothing.create("hmm"))
    track(tracker, frame(0, face(50), face(400, winner=SAD)))
    expected = tracker.tracks[1].smoother.predict(FRAME_PERIOD_S)
    seen, missed = tracker.update(FRAME_PERIOD_S, [face(52)])  # the right face is missed
    assert [f.track for f in seen] == [0]
    (predicted,) = missed
    assert (predicted.track, predicted.detection.x, predicted.observed) == (1, 400, False)
    np.testing.assert_array_equal(predicted.belief, expected)


def test_predicting_lists_the_live_tracks_only_and_changes_nothing() -> None:
    plain, probed = FaceTracker(lambda: smoothing.create("hmm")), FaceTracker(lambda: smoothing.create("hmm"))
    for tracker in (plain, probed):
        track(tracker, frame(0, face(50), face(400, winner=SAD)))
        track(tracker, frame(1, face(52)))  # track 1 last seen at frame 0
    assert [f.track for f in probed.predict(TRACK_TIMEOUT_S)] == [0, 1]
    assert [f.track for f in probed.predict(FRAME_PERIOD_S + TRACK_TIMEOUT_S)] == [0]  # track 1 has timed out
    (next_plain,), (next_probed,) = track(plain, frame(2, face(54))), track(probed, frame(2, face(54)))
    np.testing.assert_array_equal(next_plain.belief, next_probed.belief)


def test_offline_smoothing_fills_every_sighting_and_every_live_track_s_missed_frames() -> None:
    results = [frame(0, face(50)), frame(1), frame(2, face(54), face(400, winner=SAD)), frame(3, face(56))]
    tracker = FaceTracker()
    tracked = []
    for result in results:
        seen, missed = tracker.update(result.t, result.faces)
        tracked.append(replace(result, faces=seen, predicted=missed))
    smoothed = smooth_tracks_offline("ema", tracked)
    assert [[f.track for f in result.faces] for result in smoothed] == [[0], [], [0, 1], [0]]
    assert [[f.track for f in result.predicted] for result in smoothed] == [[], [0], [], [1]]
    for result in smoothed:
        for tracked_face in result.shown_faces:
            assert tracked_face.belief is not None and tracked_face.belief.sum() == pytest.approx(1.0)
    assert smoothed[2].faces[1].shown_index == SAD and smoothed[3].predicted[0].shown_index == SAD


def test_offline_beliefs_of_sighted_frames_ignore_the_frames_after_the_face_left() -> None:
    """The bidirectional nets read a sequence from both ends: the tail a track lives through after its last sighting
    must not change what the sighted frames were given."""
    tracker = FaceTracker()
    tracked = []
    for index in range(10):
        seen, missed = tracker.update(index * FRAME_PERIOD_S, [face(50 + index)] if index < 6 else [])
        tracked.append(FrameResult(index, index * FRAME_PERIOD_S, seen, predicted=missed))
    smoothed = smooth_tracks_offline("lstm", tracked)
    probs = np.array([result.faces[0].probs for result in tracked[:6]])
    alone = smoothing.smooth_offline("lstm", probs, np.arange(6) * FRAME_PERIOD_S)
    np.testing.assert_allclose([result.faces[0].belief for result in smoothed[:6]], alone, atol=1e-12)
    assert all(result.predicted[0].belief.sum() == pytest.approx(1.0) for result in smoothed[6:])


# --- with the real detector on synthetic clips made from the bundled sample face ---------------------------------
CROSSING_CANVAS = (360, 1000)  # px; two faces cross the whole width in opposite directions
CROSSING_FRAMES = 45  # at 30 fps: ~580 px/s each, a head turning to walk past someone


def detected(detector: FaceDetector, index: int, image: np.ndarray) -> FrameResult:
    """A FrameResult with the detector's real boxes and uniform probabilities (the tracker only reads boxes)."""
    faces = [FaceResult(d, np.full(7, 1 / 7)) for d in detector.detect(image)]
    return frame(index, *faces)


def test_a_face_tilting_to_45_degrees_and_back_keeps_one_track(sample_frames: list[np.ndarray]) -> None:
    detector, tracker = FaceDetector(), FaceTracker()
    height, width = sample_frames[0].shape[:2]
    tilts = np.concatenate([np.linspace(0, 45, 24), np.linspace(45, -45, 48), np.linspace(-45, 0, 24)])
    tracks = []
    for index, degrees in enumerate(tilts):
        matrix = cv2.getRotationMatrix2D((width / 2, height / 2), float(degrees), 1.0)
        image = cv2.warpAffine(sample_frames[index % len(sample_frames)], matrix, (width, height))
        tracked = track(tracker, detected(detector, index, image))
        assert len(tracked) == 1, f"frame {index} at {degrees:.0f} degrees"
        tracks.append(tracked[0].track)
    assert set(tracks) == {0}


def test_two_faces_crossing_do_not_swap_tracks(sample_frames: list[np.ndarray]) -> None:
    patch = sample_frames[0][FACE_PATCH]
    mirrored = patch[:, ::-1]
    height, width = CROSSING_CANVAS
    span = width - patch.shape[1]
    detector, tracker = FaceDetector(), FaceTracker()
    tracks: dict[str, set[int]] = {"a": set(), "b": set()}
    for index in range(CROSSING_FRAMES):
        left_x = round(span * index / (CROSSING_FRAMES - 1))  # "a" walks left to right, "b" right to left in front
        positions = {"a": left_x, "b": span - left_x}
        canvas = np.full((height, width, 3), 120, np.uint8)
        canvas[30 : 30 + patch.shape[0], positions["a"] : positions["a"] + patch.shape[1]] = patch
        canvas[30 : 30 + patch.shape[0], positions["b"] : positions["b"] + patch.shape[1]] = mirrored
        overlapping = abs(positions["a"] - positions["b"]) < patch.shape[1]  # then whose box is which is ambiguous
        for tracked in track(tracker, detected(detector, index, canvas)):
            if overlapping:
                continue
            centre = tracked.detection.x + tracked.detection.w / 2
            name = min(positions, key=lambda k: abs(positions[k] + patch.shape[1] / 2 - centre))
            tracks[name].add(tracked.track)
    # "b" passes in front and keeps its one track; "a", hidden behind it for a third of a second, may come back
    # under a new id, never under b's
    assert len(tracks["b"]) == 1
    assert not tracks["a"] & tracks["b"]
