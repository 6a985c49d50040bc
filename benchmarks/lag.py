"""Lag after a true change of emotion: how long until the smoothed label first shows the new emotion.

A change the smoother never follows before the next change (or the end) counts with the whole time it had: a lower
bound on its lag, so a smoother that ignores short expressions cannot look fast by leaving them out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LAG_PERCENTILES: tuple[float, float] = (50.0, 90.0)


@dataclass(frozen=True)
class Changes:
    """The true changes of one sequence, from all its frames (dropped ones included)."""

    t: np.ndarray  # time of the first frame showing the new emotion
    label: np.ndarray  # the new emotion
    until: np.ndarray  # time of the next change, or the sequence's end


def true_changes(labels: np.ndarray, t: np.ndarray) -> Changes:
    """Every frame where the true label differs from the previous frame's."""
    at = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    starts = t[at]
    until = np.append(starts[1:], t[-1]) if len(at) else starts
    return Changes(starts, labels[at], until)


def change_lags(changes: Changes, t: np.ndarray, predicted: np.ndarray, scored: np.ndarray) -> tuple[np.ndarray, int]:
    """Seconds from each change to the first scored frame whose label is the new one, and how many were never
    followed (those count with their whole span). t, predicted and scored cover the frames the smoother saw."""
    lags = np.empty(len(changes.t))
    missed = 0
    last = len(changes.t) - 1
    for k, (start, label, until) in enumerate(zip(changes.t, changes.label, changes.until, strict=True)):
        lo = np.searchsorted(t, start, side="left")
        hi = len(t) if k == last else np.searchsorted(t, until, side="left")  # the last change runs to the end
        hits = np.flatnonzero(scored[lo:hi] & (predicted[lo:hi] == label))
        if len(hits):
            lags[k] = t[lo + hits[0]] - start
        else:
            lags[k] = until - start
            missed += 1
    return lags, missed


def lag_summary(lags: np.ndarray, missed: int) -> dict[str, float]:
    """Median and p90 lag in seconds, and the share of changes never followed."""
    if len(lags) == 0:
        return {"median_lag_s": float("nan"), "p90_lag_s": float("nan"), "missed_changes": float("nan")}
    median, p90 = np.percentile(lags, LAG_PERCENTILES)
    return {"median_lag_s": float(median), "p90_lag_s": float(p90), "missed_changes": missed / len(lags)}
