"""The reference smoothers, exact on hand-made sequences."""

from __future__ import annotations

import numpy as np
import pytest

import smoothing
from smoothing.base import MAX_GAP_S, NUM_CLASSES, UNIFORM_PRIOR
from smoothing.smoothers.baselines import EMA_TAU_S, WINDOW_S


def leaning(label: int, strength: float = 0.6) -> np.ndarray:
    """A distribution whose argmax is label."""
    p = np.full(NUM_CLASSES, (1 - strength) / (NUM_CLASSES - 1))
    p[label] = strength
    return p


def one_hot(label: int) -> np.ndarray:
    return np.eye(NUM_CLASSES)[label]


def test_none_returns_the_input():
    smoother = smoothing.create("none")
    p = np.array([0.1, 0.2, 0.3, 0.1, 0.1, 0.1, 0.1])
    np.testing.assert_allclose(smoother.update(p, 0.0), p)
    np.testing.assert_allclose(smoother.update(p * 3, 0.1), p)  # renormalised


def test_none_relaxes_linearly_toward_the_prior_without_a_face():
    smoother = smoothing.create("none")
    p = leaning(3)
    smoother.update(p, 1.0)
    quarter = 0.25 * MAX_GAP_S
    np.testing.assert_allclose(smoother.update(None, 1.0 + quarter), 0.75 * p + 0.25 * UNIFORM_PRIOR)
    np.testing.assert_allclose(smoother.predict(1.0 + 2 * quarter), 0.5 * p + 0.5 * UNIFORM_PRIOR)
    np.testing.assert_allclose(smoother.update(None, 1.0 + MAX_GAP_S + 0.01), UNIFORM_PRIOR)


def test_ema_follows_the_continuous_time_formula():
    smoother = smoothing.create("ema")
    first, second, third = leaning(0), leaning(4), leaning(6)
    np.testing.assert_allclose(smoother.update(first, 0.0), first)  # the first face is taken as it is
    alpha = 1 - np.exp(-0.1 / EMA_TAU_S)
    expected = (1 - alpha) * first + alpha * second
    np.testing.assert_allclose(smoother.update(second, 0.1), expected)
    smoother.update(None, 0.2)  # a frame without a face: its time counts toward the next alpha
    alpha = 1 - np.exp(-0.4 / EMA_TAU_S)
    np.testing.assert_allclose(smoother.update(third, 0.5), (1 - alpha) * expected + alpha * third)


def test_ema_weighs_a_frame_after_drops_more():
    after_one, after_gap = smoothing.create("ema"), smoothing.create("ema")
    for smoother in (after_one, after_gap):
        smoother.update(leaning(0), 0.0)
    assert after_gap.update(leaning(3), 1.0)[3] > after_one.update(leaning(3), 0.05)[3]


def test_ema_rejects_a_non_positive_time_constant():
    with pytest.raises(ValueError):
        smoothing.create("ema", tau_s=0.0)


def test_window_mode_is_the_majority_of_the_last_frames():
    smoother = smoothing.create("window-mode", window_s=0.5)  # 5 frames 0.1 s apart
    labels = [3, 3, 0, 0, 0, 3, 3, 3, 1, 1]
    # windows of 5: ... [3 3 0 0] ties 2:2 and goes to the more recent 0; [0 0 0 3 3] is still 0; [0 0 3 3 3] is 3
    expected = [3, 3, 3, 0, 0, 0, 0, 3, 3, 3]
    got = [int(np.argmax(smoother.update(leaning(label), 0.1 * i))) for i, label in enumerate(labels)]
    assert got == expected


def test_window_mode_returns_a_one_hot():
    smoother = smoothing.create("window-mode")
    for i in range(round(WINDOW_S / 0.05) + 3):
        out = smoother.update(leaning(5 if i % 3 else 2), 0.05 * i)
    np.testing.assert_array_equal(out, one_hot(5))


def test_window_mode_tie_goes_to_the_most_recent_label():
    smoother = smoothing.create("window-mode", window_s=0.4)
    for i, label in enumerate([2, 2, 5, 5]):
        out = smoother.update(leaning(label), 0.1 * i)
    np.testing.assert_array_equal(out, one_hot(5))
    np.testing.assert_array_equal(smoother.update(leaning(2), 0.4), one_hot(2))  # window 2, 5, 5, 2: tie -> 2


def test_window_mean_is_the_mean_of_the_last_frames():
    smoother = smoothing.create("window-mean", window_s=0.3)
    frames = [leaning(k, 0.5 + 0.05 * k) for k in range(6)]
    for i, p in enumerate(frames):
        out = smoother.update(p, 0.1 * i)
        np.testing.assert_allclose(out, np.mean(frames[max(0, i - 2) : i + 1], axis=0))


def test_windows_count_only_face_frames_and_forget_after_a_long_gap():
    smoother = smoothing.create("window-mean", window_s=0.3)
    smoother.update(leaning(0), 0.0)
    smoother.update(None, 0.1)
    np.testing.assert_allclose(smoother.update(leaning(1), 0.2), (leaning(0) + leaning(1)) / 2)
    np.testing.assert_allclose(smoother.update(leaning(4), 0.2 + MAX_GAP_S + 1), leaning(4))


@pytest.mark.parametrize("name", ["window-mode", "window-mean"])
def test_windows_reject_an_empty_window(name):
    with pytest.raises(ValueError):
        smoothing.create(name, window_s=0.0)


@pytest.mark.parametrize("name", ["window-mode", "window-mean"])
def test_windows_span_seconds_so_dropped_frames_do_not_stretch_them(name):
    """At 30 fps the window holds 10 frames, as peers' demos do; with only every third frame arriving it holds the
    frames of the same third of a second, not the last 10 arrived ones."""
    full, sparse = smoothing.create(name), smoothing.create(name)
    period = 1 / 30
    for i in range(30):
        full.update(leaning(0 if i < 20 else 3), i * period)
    for i in range(0, 30, 3):
        out = sparse.update(leaning(0 if i < 20 else 3), i * period)
    # the window holds frames 18-27 (3 of 4 show 3); the last 10 arrived frames would reach back to frame 0 (7 show 0)
    assert int(np.argmax(out)) == 3
    assert int(np.argmax(full.update(leaning(3), 30 * period))) == 3
