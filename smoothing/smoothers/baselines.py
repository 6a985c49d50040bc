"""Reference smoothers: the raw classifier, an exponential average, and the two window smoothers peers ship (over a
window of time, where peers count frames)."""

from __future__ import annotations

from abc import abstractmethod
from collections import deque

import numpy as np

from smoothing.base import MAX_GAP_S, NUM_CLASSES, UNIFORM_PRIOR, SmootherBase, relax_to_prior, validate_probs
from smoothing.registry import register

EMA_TAU_S: float = 0.5  # time constant: about half a second of memory, the lag of a 15-frame window at 30 fps
PEER_WINDOW_FRAMES: int = 10  # oarriaga/face_classification's video demos use frame_window = 10
PEER_CAMERA_FPS: float = 30.0  # the webcam rate those demos run at
# Both window baselines span the time peers' 10 frames span at 30 fps, counted in seconds: a window of 10 arrived
# frames stretches over 0.8 s when 60% are dropped and then lags an onset more than it smooths (at 60% drops on
# the real clips, frame windows read 0.783-0.784 against the raw label's 0.788; commit 2f2566c).
WINDOW_S: float = PEER_WINDOW_FRAMES / PEER_CAMERA_FPS
WINDOW_TOLERANCE_S: float = 1e-9  # a frame exactly WINDOW_S old has left the window despite float rounding


class EvidenceSmoother(SmootherBase):
    """Shared bookkeeping: a belief formed from face frames, relaxed toward the prior while no face is seen.

    Without a face the last belief is mixed linearly toward the prior over max_gap_s of silence (the argmax is
    kept until then); past max_gap_s all state is forgotten, so the next face starts afresh.
    """

    def __init__(self, max_gap_s: float = MAX_GAP_S, prior: np.ndarray | None = None) -> None:
        super().__init__(max_gap_s)
        self.prior = UNIFORM_PRIOR.copy() if prior is None else validate_probs(prior)
        self.reset()

    def restart(self) -> None:
        self.silence_s = 0.0  # seconds since the last face, summed over non-negative steps
        self.belief = self.prior.copy()
        self.seen_face = False
        self.forget()

    def forget(self) -> None:
        """Drops the evidence state of the subclass (called on reset and after a gap longer than max_gap_s)."""

    @abstractmethod
    def observe(self, probs: np.ndarray, since_face_s: float) -> np.ndarray:
        """The new belief after a face frame; since_face_s is the time since the previous face frame."""

    def step(self, p: np.ndarray | None, dt: float) -> np.ndarray:
        self.silence_s += dt
        if self.silence_s > self.max_gap_s:
            self.belief = self.prior.copy()
            self.seen_face = False
            self.forget()
        if p is None:
            return self.relaxed(self.silence_s)
        self.belief = self.observe(p, self.silence_s if self.seen_face else 0.0)
        self.seen_face = True
        self.silence_s = 0.0
        return self.belief.copy()

    def peek(self, dt: float) -> np.ndarray:
        return self.relaxed(self.silence_s + dt)

    def relaxed(self, silence_s: float) -> np.ndarray:
        if not self.seen_face or silence_s > self.max_gap_s:
            return self.prior.copy()
        return relax_to_prior(self.belief, self.prior, silence_s, self.max_gap_s)


@register("none")
class Passthrough(EvidenceSmoother):
    """The classifier's own output for each face frame: the flicker every other smoother is measured against."""

    def observe(self, probs: np.ndarray, since_face_s: float) -> np.ndarray:
        return probs


@register("ema")
class ExponentialAverage(EvidenceSmoother):
    """Exponential moving average with alpha = 1 - exp(-dt/tau), so dropped frames weigh the new one more."""

    def __init__(self, tau_s: float = EMA_TAU_S, **options) -> None:
        if tau_s <= 0:
            raise ValueError("tau_s must be positive")
        self.tau_s = float(tau_s)
        super().__init__(**options)

    def observe(self, probs: np.ndarray, since_face_s: float) -> np.ndarray:
        if not self.seen_face:
            return probs
        alpha = 1.0 - np.exp(-since_face_s / self.tau_s)
        mixed = (1.0 - alpha) * self.belief + alpha * probs
        return mixed / mixed.sum()


class TimeWindow(EvidenceSmoother):
    """Keeps the face frames of the last window_s seconds (the newest always), so that dropped frames shorten the
    window instead of stretching it into the past."""

    def __init__(self, window_s: float = WINDOW_S, **options) -> None:
        if window_s <= 0:
            raise ValueError("window_s must be positive")
        self.window_s = float(window_s)
        super().__init__(**options)

    def forget(self) -> None:
        self.clock_s = 0.0  # seconds of face time since the window was last emptied
        self.ages: deque[float] = deque()  # clock_s at each kept frame
        self.window: deque[np.ndarray] = deque()

    def admit(self, probs: np.ndarray, since_face_s: float) -> None:
        """Adds the new frame and drops those window_s or more older than it."""
        self.clock_s += since_face_s
        self.ages.append(self.clock_s)
        self.window.append(probs)
        while self.clock_s - self.ages[0] >= self.window_s - WINDOW_TOLERANCE_S:
            self.ages.popleft()
            self.window.popleft()


@register("window-mode")
class WindowMode(TimeWindow):
    """Majority label of the window's face frames, returned as a one-hot, the label peers display; ties go to the
    label seen most recently."""

    def observe(self, probs: np.ndarray, since_face_s: float) -> np.ndarray:
        self.admit(probs, since_face_s)
        labels = [int(np.argmax(p)) for p in self.window]
        counts = np.bincount(labels, minlength=NUM_CLASSES)
        tied = set(np.flatnonzero(counts == counts.max()).tolist())
        winner = next(label for label in reversed(labels) if label in tied)
        return np.eye(NUM_CLASSES)[winner]


@register("window-mean")
class WindowMean(TimeWindow):
    """Mean distribution of the window's face frames, as HSEmotion's demo averages scores."""

    def observe(self, probs: np.ndarray, since_face_s: float) -> np.ndarray:
        self.admit(probs, since_face_s)
        return np.mean(self.window, axis=0)
