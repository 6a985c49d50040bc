"""Change-point smoother: an expression is one face held for seconds, so its frames share one centre and their
evidence saturates instead of piling up, which is what misleads a forward filter with independent frames.

Each hypothesis "the current expression began `age` seconds ago" keeps, per emotion, the weight of that emotion and a
conjugate Gaussian posterior on the face's centre in centred-log-probability space (Adams and MacKay's online
change-point detection). An expression ends with the Erlang-2 dwell hazard of its emotion and the next one follows a
jump matrix; dwell means, jumps, prior and the emission law are fitted on labelled synthetic sequences
(smoothing.fitting.changepoint_fit).

Retired as a smoother (no longer registered): on real clips it was below the raw classifier (0.699 against 0.727
all-labelled at 30% drops, 0.488 on acted clips), because its model is the synthetic generator's: one fixed face
per expression, whose frames share one centre. Real faces talk and drift, so a long run of one wrong label looks
like a new expression with its own centre, and it jumps to it (the crying clip shown as angry, then disgust). It
also cost 140 us per update, three times the default's budget. The synthetic benchmark keeps its filter as the
change-point oracle (benchmarks/changepoint_oracle.py), where the generator's assumptions hold by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from smoothing.base import MAX_GAP_S, NUM_CLASSES, SmootherBase, validate_probs
from smoothing.param_files import PARAMS_DIR, read_params

DEFAULT_CHANGEPOINT_PARAMS = PARAMS_DIR / "changepoint.npz"
LOG_FLOOR = 1e-4  # CNN probabilities below this are rounding noise; the floor keeps log-probabilities bounded
MAX_HYPOTHESES = 64  # expression starts kept; the least likely are pruned first
PRUNE_BELOW = 1e-9  # relative weight under which a hypothesis is dropped
LOG_2PI = float(np.log(2.0 * np.pi))
ERLANG_PHASES = 2  # expressions have an onset, apex and offset: very short dwells are rare (gamma shape 2)


def features(probs: np.ndarray) -> np.ndarray:
    """Centred log-probabilities: the classifier's logits up to a constant, where one face's frames scatter
    roughly normally."""
    x = np.log(np.maximum(probs, LOG_FLOOR))
    return x - x.mean(axis=-1, keepdims=True)


@dataclass(frozen=True)
class EmissionLaw:
    """Per-emotion face centres and between-face variances, the within-face frame variance, and the share of an
    independent frame that one frame is worth (frames of one face drift together)."""

    centre: np.ndarray  # (7 emotions, 7 dims)
    between: np.ndarray  # (7 emotions, 7 dims)
    within: np.ndarray  # (7 dims)
    information_share: float


@dataclass(frozen=True)
class SegmentLaw:
    """How expressions follow one another: mean dwell per emotion (s), jump matrix between emotions, and the prior."""

    mean_dwells: np.ndarray  # (7,)
    jumps: np.ndarray  # (7, 7), zero diagonal, rows sum to 1
    prior: np.ndarray  # (7,)


def load_changepoint_params(path: str | Path = DEFAULT_CHANGEPOINT_PARAMS) -> tuple[EmissionLaw, SegmentLaw]:
    keys = ("centre", "between", "within", "information_share", "mean_dwells", "jumps", "prior")
    data = read_params(path, "change-point parameters", keys)
    emission = EmissionLaw(data["centre"], data["between"], data["within"], float(data["information_share"]))
    return emission, SegmentLaw(data["mean_dwells"], data["jumps"], data["prior"])


def save_changepoint_params(path: str | Path, emission: EmissionLaw, segments: SegmentLaw, **meta) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **vars(emission), **vars(segments), **meta)


def erlang2_log_survival(age: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """log P(dwell > age) for an Erlang-2 dwell with per-phase rate `rate` (mean 2 / rate)."""
    z = rate * np.maximum(age, 0.0)
    return -z + np.log1p(z)


class ChangePointSmoother(SmootherBase):
    """Online change-point filter over (expression start, emotion); update() and predict() give (7,) beliefs.
    Not registered (retired, see the module docstring), but it keeps the base class's clock and validation."""

    def __init__(
        self,
        params: str | Path | None = None,
        emission: EmissionLaw | None = None,
        segments: SegmentLaw | None = None,
        max_gap_s: float = MAX_GAP_S,
        max_hypotheses: int = MAX_HYPOTHESES,
    ) -> None:
        if emission is None or segments is None:
            loaded = load_changepoint_params(params if params is not None else DEFAULT_CHANGEPOINT_PARAMS)
            emission = emission or loaded[0]
            segments = segments or loaded[1]
        self.emission, self.segments = emission, segments
        self.prior = validate_probs(segments.prior)
        self.rates = ERLANG_PHASES / np.asarray(segments.mean_dwells, dtype=np.float64)
        self.log_jumps = np.log(np.maximum(segments.jumps, 1e-300))
        # Per-frame constants of the conjugate update: a frame is worth information_share of an independent one.
        self.frame_precision = emission.information_share / emission.within  # (7 dims)
        self.prior_precision = 1.0 / emission.between  # (7, 7)
        self.prior_scaled_centre = emission.centre / emission.between
        self.max_hypotheses = int(max_hypotheses)
        super().__init__(max_gap_s)
        self.reset()

    def restart(self) -> None:
        self.state = self._fresh_state()

    def _fresh_state(self) -> dict[str, np.ndarray]:
        """One hypothesis: an expression that starts now, its emotion drawn from the prior."""
        return {
            "ages": np.zeros(1),
            "sums": np.zeros((1, NUM_CLASSES)),
            "counts": np.zeros(1),
            "log_weights": np.log(self.prior)[None, :],
        }

    def _advance(self, state: dict[str, np.ndarray], dt: float) -> dict[str, np.ndarray]:
        """Lets dt pass: each expression may end, and the mass that ended starts a new one (at most one per gap)."""
        if dt <= 0:
            return state
        if dt > self.max_gap_s:
            return self._fresh_state()
        ages = state["ages"]
        stay = erlang2_log_survival(ages[:, None] + dt, self.rates) - erlang2_log_survival(ages[:, None], self.rates)
        leave = np.log(-np.expm1(np.minimum(stay, -1e-300)))
        ended = np.logaddexp.reduce(state["log_weights"] + leave, axis=0)  # (7,) by emotion of the ended expression
        started = np.logaddexp.reduce(ended[:, None] + self.log_jumps, axis=0)  # (7,) by emotion of the new one
        return {
            "ages": np.append(ages + dt, 0.5 * dt),  # the change fell somewhere in the gap
            "sums": np.vstack([state["sums"], np.zeros(NUM_CLASSES)]),
            "counts": np.append(state["counts"], 0.0),
            "log_weights": np.vstack([state["log_weights"] + stay, started]),
        }

    def _observe(self, state: dict[str, np.ndarray], x: np.ndarray) -> dict[str, np.ndarray]:
        """Weighs each (hypothesis, emotion) by how well it predicted the frame, then adds the frame to it."""
        counts, sums = state["counts"][:, None, None], state["sums"][:, None, :]
        precision = self.prior_precision[None] + counts * self.frame_precision  # (H, 7, 7)
        mean = (self.prior_scaled_centre[None] + sums * self.frame_precision) / precision
        variance = 1.0 / precision + self.emission.within  # the centre's uncertainty plus one frame's scatter
        log_like = -0.5 * np.sum(LOG_2PI + np.log(variance) + (x - mean) ** 2 / variance, axis=2)  # (H, 7)
        return {
            "ages": state["ages"],
            "sums": state["sums"] + x,
            "counts": state["counts"] + 1.0,
            "log_weights": state["log_weights"] + self.emission.information_share * log_like,
        }

    def _prune(self, state: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        log_weights = state["log_weights"] - np.logaddexp.reduce(state["log_weights"], axis=None)
        mass = np.logaddexp.reduce(log_weights, axis=1)
        keep = mass > np.log(PRUNE_BELOW)
        if keep.sum() > self.max_hypotheses:
            keep &= mass >= np.sort(mass)[-self.max_hypotheses]
        return {"ages": state["ages"][keep], "sums": state["sums"][keep], "counts": state["counts"][keep]} | {
            "log_weights": log_weights[keep]
        }

    @staticmethod
    def _belief(state: dict[str, np.ndarray]) -> np.ndarray:
        belief = np.exp(np.logaddexp.reduce(state["log_weights"], axis=0))
        return belief / belief.sum()

    def step(self, p: np.ndarray | None, dt: float) -> np.ndarray:
        state = self._advance(self.state, dt)
        if p is not None:
            state = self._observe(state, features(p))
        self.state = self._prune(state)
        return self._belief(self.state)

    def peek(self, dt: float) -> np.ndarray:
        return self._belief(self._advance(self.state, dt))
