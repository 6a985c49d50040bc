"""The pipeline classifies all faces of a frame in one batch of aligned 48x48 crops and skips the classifier when
there is no face."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

import smoothing
from app.engine.pipeline import PIPELINE_STAGES, Pipeline
from app.output.csv_writer import frame_rows
from models.labels import FACE_SIZE
from smoothing.labels import CLASSES
from tests.conftest import hide_face


class RecordingClassifier:
    """Stands in for models.EmotionClassifier and remembers each batch size."""

    def __init__(self) -> None:
        self.batches: list[int] = []

    def predict(self, faces: Sequence[np.ndarray]) -> np.ndarray:
        self.batches.append(len(faces))
        assert all(face.shape == (FACE_SIZE, FACE_SIZE) and face.dtype == np.uint8 for face in faces)  # aligned crops
        probs = np.zeros((len(faces), len(CLASSES)), np.float32)
        probs[:, CLASSES.index("happy")] = 1.0
        return probs


def test_all_faces_of_a_frame_go_in_one_batch(sample_frames: list[np.ndarray]) -> None:
    frame = sample_frames[30]
    mosaic = np.vstack([np.hstack([frame, frame]), np.hstack([frame, frame])])
    classifier = RecordingClassifier()
    result = Pipeline(classifier).process(5, 0.5, mosaic)
    assert classifier.batches == [4]
    assert (result.index, result.t) == (5, 0.5)
    assert [face.label for face in result.faces] == ["happy"] * 4


def test_no_face_no_classifier_call() -> None:
    classifier = RecordingClassifier()
    result = Pipeline(classifier).process(0, 0.0, np.zeros((480, 640, 3), np.uint8))
    assert result.faces == []
    assert classifier.batches == []


def test_run_keeps_every_frame_in_order(sample_frames: list[np.ndarray]) -> None:
    frames = [(i, i / 30, f) for i, f in enumerate(sample_frames[:12])] + [(12, 0.4, np.zeros((360, 640, 3), np.uint8))]
    results = [r for r, _ in Pipeline(RecordingClassifier()).run(frames)]
    assert [r.index for r in results] == list(range(13))
    assert [len(r.faces) for r in results] == [1] * 12 + [0]


def test_real_classifier_probabilities(classifier, sample_frames: list[np.ndarray]) -> None:
    result = Pipeline(classifier).process(0, 0.0, sample_frames[0])
    (face,) = result.faces
    assert face.probs.shape == (len(CLASSES),)
    assert abs(float(face.probs.sum()) - 1.0) < 1e-5


def test_each_result_carries_its_own_stage_times_for_the_latency_benchmark(sample_frames: list[np.ndarray]) -> None:
    pipeline = Pipeline(RecordingClassifier(), "ema")
    before = time.perf_counter_ns()
    result = pipeline.process(0, 0.0, sample_frames[0])
    elapsed = time.perf_counter_ns() - before
    assert tuple(result.spans_ns) == PIPELINE_STAGES
    assert all(span > 0 for span in result.spans_ns.values()) and sum(result.spans_ns.values()) <= elapsed
    empty = pipeline.process(1, 0.1, np.zeros((240, 320, 3), np.uint8))  # no face: nothing to crop or classify
    assert empty.spans_ns["preprocess"] == empty.spans_ns["classify"] == 0


def test_faces_come_tracked_and_with_a_smoother_smoothed(sample_frames: list[np.ndarray]) -> None:
    frames = [(i, i / 30, frame) for i, frame in enumerate(sample_frames[:5])]
    smoothed = [r for r, _ in Pipeline(RecordingClassifier(), "ema").run(frames)]
    assert all(face.track == 0 and face.belief is not None for r in smoothed for face in r.faces)
    assert smoothed[-1].faces[0].shown_index == CLASSES.index("happy")
    raw = [r for r, _ in Pipeline(RecordingClassifier()).run(frames)]
    assert all(face.track == 0 and face.belief is None for r in raw for face in r.faces)


def test_a_new_run_starts_fresh_tracks_and_switching_smoother_restarts_them(sample_frames: list[np.ndarray]) -> None:
    frames = [(i, i / 30, frame) for i, frame in enumerate(sample_frames[:3])]
    pipeline = Pipeline(RecordingClassifier(), "ema")
    first = [r.faces[0].track for r, _ in pipeline.run(frames)]
    again = [r.faces[0].track for r, _ in pipeline.run(frames)]
    assert first == again == [0, 0, 0]
    pipeline.set_smoother(None)
    assert pipeline.process(3, 0.1, sample_frames[3]).faces[0].belief is None


def test_run_drops_a_seeded_share_of_frames_as_dropped_results(sample_frames: list[np.ndarray]) -> None:
    frames = [(i, i / 30, frame) for i, frame in enumerate(sample_frames[:40])]
    classifier = RecordingClassifier()
    results = [r for r, _ in Pipeline(classifier).run(frames, drop=0.5, seed=7)]
    dropped = [r.index for r in results if r.dropped]
    assert [r.index for r in results] == list(range(40)) and 10 <= len(dropped) <= 30
    assert all(not r.faces for r in results if r.dropped) and all(r.faces for r in results if not r.dropped)
    assert len(classifier.batches) == 40 - len(dropped)  # a dropped frame is not looked at
    again = [r.index for r, _ in Pipeline(RecordingClassifier()).run(frames, drop=0.5, seed=7) if r.dropped]
    assert again == dropped


class DriftingClassifier:
    """Says happy, then more and more sad, so that the smoothed belief moves from frame to frame."""

    def __init__(self) -> None:
        self.calls = 0

    def predict(self, faces: Sequence[np.ndarray]) -> np.ndarray:
        self.calls += 1
        probs = np.full((len(faces), len(CLASSES)), 0.05)
        sad = min(0.05 * self.calls, 0.65)
        probs[:, CLASSES.index("sad")] += sad
        probs[:, CLASSES.index("happy")] += 0.65 - sad
        return probs


def test_a_dropped_frame_carries_exactly_the_belief_its_track_s_smoother_predicts(
    sample_frames: list[np.ndarray],
) -> None:
    frames = [(i, i / 30, frame) for i, frame in enumerate(sample_frames[:30])]
    results = [r for r, _ in Pipeline(DriftingClassifier(), "hmm").run(frames, drop=0.3, seed=3)]
    twin = smoothing.create("hmm")  # fed what track 0's smoother is fed
    predicted_rows = 0
    for position, result in enumerate(results):
        if result.dropped and not any(r.faces for r in results[:position]):
            assert result.predicted == []  # no face seen yet: no track to predict
        elif result.dropped:
            (predicted,) = result.predicted
            assert (predicted.track, predicted.observed) == (0, False)
            np.testing.assert_array_equal(predicted.belief, twin.predict(result.t))
            predicted_rows += 1
        else:
            (face,) = result.faces
            np.testing.assert_array_equal(face.belief, twin.update(face.probs, result.t))
    assert predicted_rows >= 5


def test_a_face_hidden_for_three_frames_keeps_its_track_with_predicted_rows(sample_frames: list[np.ndarray]) -> None:
    hidden = range(5, 8)
    frames = [(i, i / 30, hide_face(frame) if i in hidden else frame) for i, frame in enumerate(sample_frames[:11])]
    results = [r for r, _ in Pipeline(RecordingClassifier(), "hmm").run(frames)]
    assert [len(r.faces) for r in results] == [0 if i in hidden else 1 for i in range(11)]
    rows = [frame_rows(r) for r in results]
    assert all(row["track"] == "0" for frame in rows for row in frame)  # one row a frame, always track 0
    assert [frame[0]["observed"] for frame in rows] == ["0" if i in hidden else "1" for i in range(11)]
    assert all(len(frame) == 1 and frame[0].get("p_happy", "") == "" for i, frame in enumerate(rows) if i in hidden)
