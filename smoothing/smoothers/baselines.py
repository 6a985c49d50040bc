"""Reference smoothers: the raw classifier, an exponential average, and the two window smoothers peers ship."""

from __future__ import annotations

from abc import abstractmethod
from collections import deque

import numpy as np

from smoothing.base import MAX_GAP_S, NUM_CLASSES, UNIFORM_PRIOR, SmootherBase, relax_to_prior, validate_probs
from smoothing.registry import register

EMA_TAU_S: float = 0.5  # time constant: about half a second of memory, the lag of a 15-frame window at 30 fps
WINDOW_MODE_FRAMES: int = 10  # oarriaga/face_classification's video demos use frame_window = 10
WINDOW_MEAN_FRAMES: int = 10  # same length, so the two window baselines differ only in vote vs mean


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


class FrameWindow(EvidenceSmoother):
    """Keeps the last `frames` face frames, as peers' demos do (they count frames, not seconds)."""

    def __init__(self, frames: int, **options) -> None:
        if frames < 1:
            raise ValueError("frames must be at least 1")
        self.frames = int(frames)
        super().__init__(**options)

    def forget(self) -> None:
        self.window: deque[np.ndarray] = deque(maxlen=self.frames)


@register("window-mode")
class WindowMode(FrameWindow):
    """Majority label of the last N face frames, returned as a one-hot, the label peers display; ties go to the
    label seen most recently."""

    def __init__(self, frames: int = WINDOW_MODE_FRAMES, **options) -> None:
        super().__init__(frames, **options)

    def observe(self, probs: np.ndarray, since_face_s: float) -> np.ndarray:
        self.window.append(probs)
        labels = [int(np.argmax(p)) for p in self.window]
        counts = np.bincount(labels, minlength=NUM_CLASSES)
        tied = set(np.flatnonzero(counts == counts.max()).tolist())
        winner = next(label for label in reversed(labels) if label in tied)
        return np.eye(NUM_CLASSES)[winner]


@register("window-mean")
class WindowMean(FrameWindow):
    """Mean distribution of the last N face frames, as HSEmotion's demo averages scores."""

    def __init__(self, frames: int = WINDOW_MEAN_FRAMES, **options) -> None:
        super().__init__(frames, **options)

    def observe(self, probs: np.ndarray, since_face_s: float) -> np.ndarray:
        self.window.append(probs)
        return np.mean(self.window, axis=0)
