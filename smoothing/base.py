"""The Smoother interface and the input rules every smoother shares (validation, clock handling, gaps)."""

from __future__ import annotations

import math
import numbers
from abc import ABC, abstractmethod
from typing import Protocol, runtime_checkable

import numpy as np

from smoothing.labels import CLASSES, NUM_CLASSES

NOMINAL_FRAME_PERIOD_S: float = 1.0 / 15.0  # webcams deliver 15-30 fps; 15 fps is the low end we design for
MAX_GAP_S: float = 5.0  # longer than the longest stall we expect (3 s): past this nothing of the old belief is kept
UNIFORM_PRIOR: np.ndarray = np.full(NUM_CLASSES, 1.0 / NUM_CLASSES)
PROB_SUM_TOLERANCE: float = 1e-3  # float32 classifier outputs sum to 1 only up to rounding

__all__ = [
    "CLASSES",
    "MAX_GAP_S",
    "NOMINAL_FRAME_PERIOD_S",
    "NUM_CLASSES",
    "UNIFORM_PRIOR",
    "Clock",
    "Smoother",
    "SmootherBase",
    "relax_to_prior",
    "validate_probs",
    "validate_time",
]


@runtime_checkable
class Smoother(Protocol):
    """Turns a stream of per-frame (7,) classifier distributions, stamped with capture times, into beliefs."""

    def reset(self) -> None: ...

    def update(self, probs: np.ndarray | None, t: float) -> np.ndarray: ...

    def predict(self, t: float) -> np.ndarray: ...


NOT_FINITE = "probs contain NaN or infinity (or overflow when summed)"
NEGATIVE = "probs contain negative values"
ZERO_SUM = "probs sum to zero"


def validate_probs(probs: np.ndarray | None) -> np.ndarray | None:
    """Returns a float64 copy renormalised to sum 1, or None; raises ValueError on input no classifier produces."""
    if probs is None:
        return None
    p = np.asarray(probs, dtype=np.float64)
    if p.shape != (NUM_CLASSES,):
        raise ValueError(f"probs must have shape ({NUM_CLASSES},), got {p.shape}")
    total = p.sum()  # NaN or infinity anywhere makes the sum non-finite: one reduction checks them all, per frame
    if not np.isfinite(total):
        raise ValueError(NOT_FINITE)
    if p.min() < 0:
        raise ValueError(NEGATIVE)
    if total <= 0:
        raise ValueError(ZERO_SUM)
    return p / total


def validate_prob_rows(probs: np.ndarray) -> np.ndarray:
    """validate_probs over a recording's (T, 7) rows at once, its all-NaN rows (no face) kept; ValueError names the
    first bad row."""
    face = ~np.isnan(probs).all(axis=1)
    rows = probs[face]
    with np.errstate(invalid="ignore", over="ignore"):
        totals = rows.sum(axis=1)
    for message, bad in (
        (NOT_FINITE, ~np.isfinite(totals)),
        (NEGATIVE, np.isfinite(totals) & (rows.min(axis=1) < 0)),
        (ZERO_SUM, np.isfinite(totals) & (totals <= 0)),
    ):
        if bad.any():
            raise ValueError(f"row {int(np.flatnonzero(face)[np.argmax(bad)])}: {message}")
    checked = probs.copy()
    checked[face] = rows / totals[:, None]
    return checked


def validate_time(t: float) -> float:
    """Capture times must be finite numbers of seconds (not a date, a string or a bool, which float() would take or
    fail on with a message that names neither)."""
    if type(t) is not float:  # the usual case skips the ABC check, which costs about a microsecond
        if isinstance(t, bool | np.bool_) or not isinstance(t, numbers.Real):
            raise ValueError(f"time must be a number of seconds, got {t!r}")
        t = float(t)
    if not math.isfinite(t):  # math, not numpy: a tenth of the cost on one float
        raise ValueError(f"time must be finite, got {t}")
    return t


def relax_to_prior(belief: np.ndarray, prior: np.ndarray, silence_s: float, max_gap_s: float = MAX_GAP_S) -> np.ndarray:
    """Mixes a stale belief linearly toward the prior, reaching it at max_gap_s; mixing keeps the argmax until then."""
    weight = min(max(silence_s / max_gap_s, 0.0), 1.0) if max_gap_s > 0 else 1.0
    return (1.0 - weight) * belief + weight * prior


class Clock:
    """Tracks the last update time; dt <= 0 counts as no time passing, and a backward jump adopts the new clock."""

    def __init__(self) -> None:
        self.last: float | None = None

    def reset(self) -> None:
        self.last = None

    def elapsed(self, t: float) -> float:
        """Seconds from the last update to t (0 before the first update or when t is not later); changes nothing."""
        t = validate_time(t)
        if self.last is None:
            return 0.0
        return max(t - self.last, 0.0)

    def advance(self, t: float) -> float:
        """Elapsed seconds to t, then t becomes the last update time (also when the clock jumped back)."""
        dt = self.elapsed(t)
        self.last = float(t)
        return dt


class SmootherBase(ABC):
    """What every smoother shares: input validation, the clock and the maximum gap. A smoother fills three hooks
    (the way ultralytics' trackers override only what differs): restart() its state, step() to a new frame dt seconds
    after the last one, and peek() dt seconds ahead without changing anything; a gap longer than max_gap_s is
    theirs to cut, since each keeps different state across it."""

    def __init__(self, max_gap_s: float = MAX_GAP_S) -> None:
        self.max_gap_s = float(max_gap_s)
        self.clock = Clock()

    def reset(self) -> None:
        self.clock.reset()
        self.restart()

    def update(self, probs: np.ndarray | None, t: float) -> np.ndarray:
        p = validate_probs(probs)
        return self.step(p, self.clock.advance(t))

    def predict(self, t: float) -> np.ndarray:
        return self.peek(self.clock.elapsed(t))

    @abstractmethod
    def restart(self) -> None:
        """Forgets every face seen: the state of a fresh smoother."""

    @abstractmethod
    def step(self, probs: np.ndarray | None, dt: float) -> np.ndarray:
        """The belief after a frame dt >= 0 seconds after the last one (probs validated; None without a face)."""

    @abstractmethod
    def peek(self, dt: float) -> np.ndarray:
        """The belief dt >= 0 seconds after the last frame, changing nothing."""
