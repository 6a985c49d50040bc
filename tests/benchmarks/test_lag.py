"""Lag after a true change: the time until the smoothed label first shows the new emotion."""

from __future__ import annotations

import numpy as np

from benchmarks.lag import change_lags, lag_summary, true_changes

T = np.arange(10) * 0.1  # ten frames, 0.1 s apart
TRUTH = np.array([0, 0, 0, 1, 1, 1, 1, 2, 2, 2])  # changes at 0.3 s (to 1) and at 0.7 s (to 2)


def test_true_changes_mark_the_first_frame_of_each_new_emotion() -> None:
    changes = true_changes(TRUTH, T)
    np.testing.assert_allclose(changes.t, [0.3, 0.7])
    np.testing.assert_array_equal(changes.label, [1, 2])
    np.testing.assert_allclose(changes.until, [0.7, 0.9])  # the next change, then the sequence's end


def test_a_smoother_two_frames_late_lags_by_two_periods() -> None:
    predicted = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 2])
    lags, missed = change_lags(true_changes(TRUTH, T), T, predicted, np.ones(10, bool))
    np.testing.assert_allclose(lags, [0.2, 0.2])
    assert missed == 0


def test_a_change_never_followed_counts_with_its_whole_span() -> None:
    predicted = np.zeros(10, int)  # never leaves emotion 0
    lags, missed = change_lags(true_changes(TRUTH, T), T, predicted, np.ones(10, bool))
    np.testing.assert_allclose(lags, [0.4, 0.2])
    assert missed == 2


def test_only_scored_frames_count_as_following_a_change() -> None:
    predicted = np.array([0, 0, 0, 1, 1, 1, 1, 2, 2, 2])
    scored = np.ones(10, bool)
    scored[3] = False  # the frame right at the change had no face: the label drawn there is not shown
    lags, _ = change_lags(true_changes(TRUTH, T), T, predicted, scored)
    np.testing.assert_allclose(lags, [0.1, 0.0], atol=1e-12)


def test_lag_is_measured_on_the_frames_that_arrived() -> None:
    arrived = np.array([0, 1, 2, 6, 7, 8, 9])  # frames 3-5 were dropped
    predicted = np.array([0, 0, 0, 1, 2, 2, 2])
    lags, _ = change_lags(true_changes(TRUTH, T), T[arrived], predicted, np.ones(7, bool))
    np.testing.assert_allclose(lags, [0.3, 0.0], atol=1e-12)


def test_summary_reports_median_p90_and_the_share_never_followed() -> None:
    summary = lag_summary(np.array([0.1, 0.2, 0.3, 0.4, 1.0]), missed=1)
    assert summary["median_lag_s"] == 0.3
    assert 0.4 < summary["p90_lag_s"] < 1.0
    assert summary["missed_changes"] == 0.2
    assert np.isnan(lag_summary(np.empty(0), 0)["median_lag_s"])
