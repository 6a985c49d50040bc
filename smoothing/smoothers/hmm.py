"""Continuous-time HMM over the 7 emotions: forward filtering online, forward-backward offline, in numpy."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import scipy.linalg

from smoothing.base import MAX_GAP_S, NUM_CLASSES, SmootherBase, validate_probs
from smoothing.param_files import PARAMS_DIR, read_params
from smoothing.registry import register

DEFAULT_HMM_PARAMS = PARAMS_DIR / "hmm.npz"
DEFAULT_HMM_OFFLINE_PARAMS = PARAMS_DIR / "hmm-offline.npz"  # fitted for forward-backward, which looks ahead
EMISSION_FLOOR: float = 1e-6  # keeps one overconfident zero from ruling a state out for good
TRANSITION_CACHE_SIZE: int = 1024  # distinct gaps remembered; real streams repeat a few dozen
EIGEN_CONDITION_LIMIT: float = 1e8  # beyond this the eigenvector route loses digits and expm is used instead
GENERATOR_TOLERANCE: float = 1e-9


def check_generator(generator: np.ndarray, size: int = NUM_CLASSES) -> np.ndarray:
    """A rate matrix on `size` states (the emotions, unless a chain splits them into phases): non-negative off the
    diagonal, rows summing to zero."""
    q = np.asarray(generator, dtype=np.float64)
    if q.shape != (size, size):
        raise ValueError(f"generator must be ({size}, {size}), got {q.shape}")
    off = q - np.diag(np.diag(q))
    if np.any(off < 0) or np.any(np.abs(q.sum(axis=1)) > GENERATOR_TOLERANCE * max(1.0, np.abs(q).max())):
        raise ValueError("generator needs non-negative off-diagonal rates and rows that sum to zero")
    return q


def stationary_distribution(generator: np.ndarray) -> np.ndarray:
    """pi with pi Q = 0: where the chain settles after a long gap, hence the prior."""
    q = check_generator(generator)
    system = np.vstack([q.T, np.ones(NUM_CLASSES)])
    rhs = np.zeros(NUM_CLASSES + 1)
    rhs[-1] = 1.0
    pi = np.linalg.lstsq(system, rhs, rcond=None)[0]
    pi = np.clip(pi, 0.0, None)
    return pi / pi.sum()


def emission_likelihood(probs: np.ndarray, class_prior: np.ndarray, exponent: float) -> np.ndarray:
    """The classifier's scaled likelihood p(x|s) up to a constant, (floored p / class_prior) ** exponent: the one
    emission law of the HMM and the synthetic oracle (probs validated float64)."""
    scaled = np.maximum(probs, EMISSION_FLOOR)
    scaled /= class_prior
    return scaled**exponent


class TransitionMatrices:
    """expm(Q dt) for any gap, from one eigendecomposition of Q (a few microseconds each), cached per dt; Q is on
    `size` states."""

    def __init__(self, generator: np.ndarray, size: int = NUM_CLASSES) -> None:
        self.generator = check_generator(generator, size)
        self.size = size
        eigenvalues, vectors = np.linalg.eig(self.generator)
        self.use_eigen = np.linalg.cond(vectors) < EIGEN_CONDITION_LIMIT
        if self.use_eigen:
            # expm(Q dt) = sum_k exp(lambda_k dt) v_k w_k^T: one (7,) @ (7, 49) product per new gap, no 7x7 matmul chain
            inverse = np.linalg.inv(vectors)
            self.eigenvalues = eigenvalues
            self.components = np.einsum("ik,kj->kij", vectors, inverse).reshape(size, size * size)
        self.cache: dict[float, np.ndarray] = {}

    def __call__(self, dt: float) -> np.ndarray:
        matrix = self.cache.get(dt)
        if matrix is None:
            matrix = self.compute(dt)
            if len(self.cache) >= TRANSITION_CACHE_SIZE:
                self.cache.pop(next(iter(self.cache)))
            self.cache[dt] = matrix
        return matrix

    def compute(self, dt: float) -> np.ndarray:
        if dt <= 0:
            return np.eye(self.size)
        if self.use_eigen:
            matrix = np.maximum((np.exp(self.eigenvalues * dt) @ self.components).real, 0.0)
            matrix = matrix.reshape(self.size, self.size)
        else:
            matrix = np.maximum(scipy.linalg.expm(self.generator * dt), 0.0)
        matrix /= matrix.sum(axis=1, keepdims=True)  # rounding can leave a row a hair off 1
        return matrix


def load_hmm_params(path: str | Path = DEFAULT_HMM_PARAMS) -> dict[str, np.ndarray | float | None]:
    """The shipped generator, emission prior, emission exponent and correlation time (None: per-frame exponent)."""
    data = read_params(path, "HMM parameters", ("generator", "class_prior", "beta"))
    return {
        "generator": data["generator"],
        "class_prior": data["class_prior"],
        "beta": float(data["beta"]),
        "correlation_s": float(data["correlation_s"]) if "correlation_s" in data else None,
    }


def save_hmm_params(
    path: str | Path, generator: np.ndarray, class_prior: np.ndarray, beta: float, correlation_s: float, **meta
) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, generator=check_generator(generator), class_prior=class_prior, beta=np.float64(beta),
             correlation_s=np.float64(correlation_s), **meta)  # fmt: skip


@register("hmm")
class HMMSmoother(SmootherBase):
    """Forward filter: belief <- normalise((belief @ expm(Q dt)) * (p / class_prior) ** (beta * worth)).

    The emission is the classifier's scaled likelihood, tempered twice: beta is what one independent frame is worth,
    and worth = 1 - exp(-gap / correlation_s) is the share of an independent frame that a frame `gap` seconds after
    the previous face frame brings, since frames of one face repeat each other's errors for a while. So evidence
    accrues per second, not per frame: 15 and 30 fps cameras, and dropped frames, move the belief alike. Without
    correlation_s every frame is worth beta. The prior is Q's stationary distribution.
    """

    def __init__(
        self,
        params: str | Path | None = None,
        generator: np.ndarray | None = None,
        class_prior: np.ndarray | None = None,
        beta: float | None = None,
        max_gap_s: float = MAX_GAP_S,
        correlation_s: float | None = None,
        offline_params: str | Path | None = None,
    ) -> None:
        if generator is None:
            if params is None and offline_params is None and DEFAULT_HMM_OFFLINE_PARAMS.is_file():
                offline_params = DEFAULT_HMM_OFFLINE_PARAMS  # the shipped filter goes with the shipped offline fit
            loaded = load_hmm_params(params if params is not None else DEFAULT_HMM_PARAMS)
            generator = loaded["generator"]
            class_prior = loaded["class_prior"] if class_prior is None else class_prior
            beta = loaded["beta"] if beta is None else beta
            correlation_s = loaded["correlation_s"] if correlation_s is None else correlation_s
        self.transitions = TransitionMatrices(generator)
        self.prior = stationary_distribution(generator)
        self.class_prior = validate_probs(np.full(NUM_CLASSES, 1.0) if class_prior is None else class_prior)
        self.beta = 1.0 if beta is None else float(beta)
        if self.beta <= 0:
            raise ValueError("beta must be positive")
        if correlation_s is not None and correlation_s <= 0:
            raise ValueError("correlation_s must be positive")
        self.correlation_s = None if correlation_s is None else float(correlation_s)
        super().__init__(max_gap_s)
        self.offline_params = offline_params
        self.reset()

    def restart(self) -> None:
        self.belief = self.prior.copy()
        self.since_face_s: float | None = None  # seconds since the last face frame; None before the first

    def later(self, since_face_s: float | None, dt: float) -> float | None:
        """Seconds since the last face frame, dt later; None again once a gap over max_gap_s cut the chain."""
        if since_face_s is None or dt > self.max_gap_s:
            return None
        return since_face_s + dt

    def worth(self, since_face_s: float | None) -> float:
        """The share of an independent frame that a face frame brings, `since_face_s` after the previous one."""
        if self.correlation_s is None or since_face_s is None:
            return 1.0
        return -math.expm1(-since_face_s / self.correlation_s)  # math, not numpy: a scalar per frame

    def emission(self, probs: np.ndarray, worth: float = 1.0) -> np.ndarray:
        """Scaled likelihood p(x|s) up to a constant, tempered by beta and the frame's worth."""
        return emission_likelihood(probs, self.class_prior, self.beta * worth)

    def propagate(self, belief: np.ndarray, dt: float) -> np.ndarray:
        if dt > self.max_gap_s:
            return self.prior.copy()
        return belief @ self.transitions(dt)

    def step(self, p: np.ndarray | None, dt: float) -> np.ndarray:
        belief = self.propagate(self.belief, dt)
        self.since_face_s = self.later(self.since_face_s, dt)
        if p is not None:
            belief = belief * self.emission(p, self.worth(self.since_face_s))
            self.since_face_s = 0.0
        self.belief = belief / belief.sum()
        return self.belief.copy()

    def peek(self, dt: float) -> np.ndarray:
        belief = self.propagate(self.belief, dt)
        return belief / belief.sum()

    def load_offline(self) -> HMMSmoother:
        """The HMM that smooth_offline runs: the offline fit (offline_params; the shipped smoother has hmm-offline.npz)
        or, without one, this filter itself."""
        if self.offline_params is None:
            return self
        return HMMSmoother(params=self.offline_params, max_gap_s=self.max_gap_s)

    def smooth_offline(self, probs: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Forward-backward with load_offline()'s parameters; a gap over max_gap_s cuts the chain."""
        return self.load_offline().forward_backward(probs, t)

    def forward_backward(self, probs: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Posterior of every frame given the whole recording, with this smoother's parameters."""
        n = len(probs)
        emissions = np.ones((n, NUM_CLASSES))
        has_face = ~np.isnan(probs).any(axis=1)
        dts = np.maximum(np.diff(t, prepend=t[:1] if n else t), 0.0)
        cuts = dts > self.max_gap_s
        since_face_s = None
        for i in range(n):
            since_face_s = self.later(since_face_s, dts[i])
            if has_face[i]:
                emissions[i] = self.emission(validate_probs(probs[i]), self.worth(since_face_s))
                since_face_s = 0.0
        forward = np.empty((n, NUM_CLASSES))
        belief = self.prior
        for i in range(n):
            belief = self.prior if cuts[i] else belief @ self.transitions(dts[i])
            belief = belief * emissions[i]
            belief = forward[i] = belief / belief.sum()
        posterior = np.empty_like(forward)
        backward = np.ones(NUM_CLASSES)
        for i in range(n - 1, -1, -1):
            joint = forward[i] * backward
            posterior[i] = joint / joint.sum()
            message = emissions[i] * backward
            backward = np.full(NUM_CLASSES, message @ self.prior) if cuts[i] else self.transitions(dts[i]) @ message
            backward = backward / backward.sum()
        return posterior
