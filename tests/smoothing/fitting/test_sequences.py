"""Sequence generation: the emotion path, frame times, rendering, no-face spells and drop patterns."""

from __future__ import annotations

import numpy as np
import pytest

from smoothing.base import NOMINAL_FRAME_PERIOD_S, NUM_CLASSES
from smoothing.fitting.sequences import (
    CROSSFADE_S,
    MIN_DWELL_S,
    STALL_S,
    Sequences,
    build_sequences,
    drop_mask,
    frame_times,
    jump_matrix,
    occupancy,
    render_frames,
    sample_path,
)


def blob_faces(count_per_class: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Stand-in faces: smooth random blobs, distinct per image."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (NUM_CLASSES * count_per_class, 6, 6)).astype(np.float32)
    faces = np.repeat(np.repeat(coarse, 8, axis=1), 8, axis=2).astype(np.uint8)
    return faces, np.repeat(np.arange(NUM_CLASSES), count_per_class)


def test_jump_chain_is_stochastic_without_self_loops():
    jumps = jump_matrix()
    np.testing.assert_allclose(jumps.sum(axis=1), 1.0)
    assert np.all(np.diag(jumps) == 0)
    assert occupancy().argmax() == NUM_CLASSES - 1  # neutral, the hub, holds the most time


def test_path_changes_emotion_at_every_segment_and_dwells_at_least_the_minimum():
    labels, starts = sample_path(600.0, np.random.default_rng(1))
    assert starts[0] == 0 and starts[-1] < 600.0
    assert np.all(np.diff(labels) != 0)
    assert np.diff(starts).min() >= MIN_DWELL_S - 1e-12
    assert 1.0 < np.mean(np.diff(starts)) < 6.0  # dwell times of seconds
    assert set(labels.tolist()) == set(range(NUM_CLASSES))


def test_frame_times_are_irregular_but_increasing_at_the_nominal_rate():
    t = frame_times(30.0, np.random.default_rng(2))
    dt = np.diff(t)
    assert np.all(dt > 0) and t[0] >= 0
    assert np.mean(dt) == pytest.approx(NOMINAL_FRAME_PERIOD_S, rel=0.01)
    assert dt.std() > 0.05 * NOMINAL_FRAME_PERIOD_S


def test_rendered_frames_drift_smoothly_and_cross_fade():
    faces, _ = blob_faces()
    rng = np.random.default_rng(3)
    t = frame_times(6.0, rng)
    starts = np.array([0.0, 3.0])
    frames, segment = render_frames(faces, np.array([0, 5]), starts, t, rng)
    assert frames.shape == (len(t), 48, 48) and frames.dtype == np.uint8
    assert np.array_equal(segment, (t >= 3.0).astype(int))
    x = frames.astype(np.float64)
    first = np.flatnonzero(segment == 0)
    neighbour = np.mean(np.abs(x[first[1:]] - x[first[:-1]]))
    distant = np.mean(np.abs(x[first[0]] - x[first[-1]]))
    assert neighbour < distant  # augmentations vary smoothly: close frames look more alike
    mid = np.argmin(np.abs(t - 3.0))
    assert abs(t[mid] - 3.0) < CROSSFADE_S / 2
    to_first = np.mean(np.abs(x[mid] - faces[0]))
    to_second = np.mean(np.abs(x[mid] - faces[5]))
    assert np.mean(np.abs(x[mid] - (faces[0] * 0.5 + faces[5] * 0.5))) < min(to_first, to_second)


def test_build_sequences_classifies_face_frames_only():
    faces, labels = blob_faces()
    calls = []

    def classify(batch: np.ndarray) -> np.ndarray:
        calls.append(len(batch))
        out = np.full((len(batch), NUM_CLASSES), 0.5 / (NUM_CLASSES - 1), dtype=np.float32)
        out[:, 0] = 0.5
        return out

    sequences = build_sequences(faces, labels, 6, classify, seed=4, duration_s=(20.0, 30.0))
    assert len(sequences) == 6
    face = ~np.isnan(sequences.probs[:, 0])
    assert sum(calls) == face.sum() and 0.8 < face.mean() < 1.0  # some spells without a face
    assert np.all(np.isnan(sequences.probs[~face]))
    for i in range(len(sequences)):
        _, t, seq_labels, segment = sequences.sequence(i)
        assert np.all(np.diff(t) > 0)
        assert np.all(np.diff(segment) >= 0)
        changes = np.flatnonzero(np.diff(seq_labels))
        assert np.array_equal(changes, np.flatnonzero(np.diff(segment)))  # the label changes only between segments


def test_build_sequences_is_deterministic():
    faces, labels = blob_faces()

    def classify(batch: np.ndarray) -> np.ndarray:
        return np.full((len(batch), NUM_CLASSES), 1 / NUM_CLASSES, dtype=np.float32)

    a = build_sequences(faces, labels, 2, classify, seed=5, duration_s=(10.0, 12.0))
    b = build_sequences(faces, labels, 2, classify, seed=5, duration_s=(10.0, 12.0))
    np.testing.assert_array_equal(a.t, b.t)
    np.testing.assert_array_equal(a.labels, b.labels)


def test_subset_keeps_whole_sequences():
    t = np.arange(10.0)
    sequences = Sequences(np.zeros((10, NUM_CLASSES)), t, np.arange(10) % 7, np.zeros(10, int), np.array([0, 4, 10]))
    part = sequences.subset(np.array([1]))
    np.testing.assert_array_equal(part.t, t[4:])
    np.testing.assert_array_equal(part.offsets, [0, 6])


@pytest.mark.parametrize("rate", [0.0, 0.1, 0.3, 0.5])
def test_drop_mask_hits_the_rate_exactly_and_keeps_the_first_frame(rate):
    t = frame_times(40.0, np.random.default_rng(6))
    keep = drop_mask(t, rate, np.random.default_rng(7))
    assert (~keep).sum() == round(rate * len(t))
    assert keep[0]


def test_drop_mask_mixes_stalls_bursts_and_single_drops():
    t = frame_times(120.0, np.random.default_rng(8))
    keep = drop_mask(t, 0.3, np.random.default_rng(9))
    edges = np.flatnonzero(np.diff(np.concatenate([[1], keep.astype(int), [1]])))
    runs = edges[1::2] - edges[::2]  # lengths of the dropped runs
    stall_frames = STALL_S[0] / NOMINAL_FRAME_PERIOD_S
    assert np.any(runs >= stall_frames)
    assert np.any(runs == 1)
    assert np.any((runs >= 2) & (runs < stall_frames))


def test_drop_mask_can_put_every_drop_in_stalls_and_bursts():
    t = frame_times(120.0, np.random.default_rng(8))
    keep = drop_mask(t, 0.3, np.random.default_rng(9), stall_share=0.8, burst_share=0.2)
    edges = np.flatnonzero(np.diff(np.concatenate([[1], keep.astype(int), [1]])))
    runs = edges[1::2] - edges[::2]
    assert (~keep).sum() == round(0.3 * len(t))
    assert np.sum(runs[runs >= STALL_S[0] / NOMINAL_FRAME_PERIOD_S]) >= 0.7 * (~keep).sum()


def test_drop_mask_rejects_shares_over_one():
    with pytest.raises(ValueError, match="shares"):
        drop_mask(np.arange(10.0), 0.3, np.random.default_rng(0), stall_share=0.8, burst_share=0.5)


@pytest.mark.parametrize("rate", [-0.5, 5.0, float("nan")])
def test_a_drop_rate_outside_0_to_1_is_refused(rate: float) -> None:
    with pytest.raises(ValueError, match="must lie in"):
        drop_mask(np.arange(30) / 30.0, rate, np.random.default_rng(0))
