"""The oracle: a forward filter that knows the sequence generator's true emotion process.

The generator draws gamma dwell times of shape 2, i.e. Erlang-2: two exponential phases in a row. So the true path
is exactly a continuous-time Markov chain on (emotion, phase) pairs, and its forward filter with expm(Q dt) is the
best causal use of the true transition law (the generator's 0.5 s floor on dwells is the one part left out).
Emissions are the calibrated CNN's scaled likelihood p / class_prior tempered by ORACLE_BETA, fitted for accuracy on
the training sequences (`python -m benchmarks.oracle`), never on the evaluation ones.

It is a ceiling only for smoothers that treat frames as independent given the emotion. The generator shows one real
face per segment, so a CNN error lasts the whole segment; no closed-form emission law describes that, and the learned
RNN/LSTM, trained on the same generator, learn part of it and beat this filter (see the README's quality section).
"""

from __future__ import annotations

import math

import numpy as np

from app.errors import CommandLineParser
from models.labels import FER2013_TRAINING_COUNTS
from smoothing.base import NUM_CLASSES, SmootherBase
from smoothing.fitting.sequences import DWELL_SHAPE, jump_matrix, load_or_build, mean_dwells, occupancy
from smoothing.registry import run_online
from smoothing.smoothers.hmm import TransitionMatrices, emission_likelihood

PHASES = int(DWELL_SHAPE)  # an Erlang-k dwell is k exponential phases
DT_RESOLUTION_S = 1e-4  # gaps are rounded to this for the expm cache; 0.1 ms changes no transition visibly
NO_GAP_CUT_S = math.inf  # the generator's chain runs on through any gap, so the oracle never resets its belief
BETA_GRID: tuple[float, ...] = (0.2, 0.3, 0.5, 0.7, 1.0, 1.4, 2.0, 3.0)
# Fitted by `python -m benchmarks.oracle` on the 240 training sequences, no drops: accuracy 0.667 at 1.0, within
# 0.002 of it from 0.7 to 1.4; so the calibrated CNN's likelihood is used as it is.
ORACLE_BETA: float = 1.0

if PHASES != DWELL_SHAPE:
    raise ValueError(f"the oracle needs an integer gamma shape (Erlang dwells), got {DWELL_SHAPE}")


def phase_generator() -> np.ndarray:
    """Q on (emotion, phase) states, state index = emotion * PHASES + phase: each phase lasts Exp(PHASES / mean)."""
    rates = PHASES / mean_dwells()
    jumps = jump_matrix()
    size = NUM_CLASSES * PHASES
    q = np.zeros((size, size))
    for emotion in range(NUM_CLASSES):
        for phase in range(PHASES):
            state = emotion * PHASES + phase
            if phase < PHASES - 1:
                q[state, state + 1] = rates[emotion]
            else:
                q[state, np.arange(NUM_CLASSES) * PHASES] = rates[emotion] * jumps[emotion]
            q[state, state] = -q[state].sum()
    return q


def initial_belief() -> np.ndarray:
    """A sequence starts at the start of a dwell, in an emotion drawn from the long-run occupancy."""
    belief = np.zeros(NUM_CLASSES * PHASES)
    belief[np.arange(NUM_CLASSES) * PHASES] = occupancy()
    return belief


def fer_class_prior() -> np.ndarray:
    """The classifier's class prior (FER2013 Training shares): the oracle's emission divides it out."""
    counts = np.array(FER2013_TRAINING_COUNTS, dtype=np.float64)
    return counts / counts.sum()


def quantised_gap(dt: float) -> float:
    """dt rounded to DT_RESOLUTION_S, so that jittered frame gaps share cached transition matrices."""
    return round(dt / DT_RESOLUTION_S) * DT_RESOLUTION_S


class OracleFilter(SmootherBase):
    """Online forward filter on the phase chain; update() and predict() return (7,) emotion beliefs."""

    def __init__(self, beta: float = ORACLE_BETA, class_prior: np.ndarray | None = None) -> None:
        self.transitions = TransitionMatrices(phase_generator(), NUM_CLASSES * PHASES)
        self.start = initial_belief()
        self.class_prior = fer_class_prior() if class_prior is None else class_prior
        self.beta = beta
        super().__init__(NO_GAP_CUT_S)
        self.reset()

    def restart(self) -> None:
        self.belief = self.start.copy()

    def step(self, p: np.ndarray | None, dt: float) -> np.ndarray:
        belief = self.belief @ self.transitions(quantised_gap(dt))
        if p is not None:
            belief = belief * np.repeat(emission_likelihood(p, self.class_prior, self.beta), PHASES)
        self.belief = belief / belief.sum()
        return self.belief.reshape(NUM_CLASSES, PHASES).sum(axis=1)

    def peek(self, dt: float) -> np.ndarray:
        belief = self.belief @ self.transitions(quantised_gap(dt))
        return belief.reshape(NUM_CLASSES, PHASES).sum(axis=1) / belief.sum()


def filter_sequence(probs: np.ndarray, t: np.ndarray, beta: float = ORACLE_BETA) -> np.ndarray:
    """(T, 7) oracle beliefs for one sequence (NaN rows: no face)."""
    return run_online(OracleFilter(beta), probs, t)


def fit_beta(betas: tuple[float, ...] = BETA_GRID) -> dict[float, float]:
    """Frame accuracy on the training sequences' face frames for each beta."""
    sequences = load_or_build("training")
    accuracy = {}
    for beta in betas:
        correct = frames = 0
        for i in range(len(sequences)):
            probs, t, labels, _ = sequences.sequence(i)
            face = ~np.isnan(probs[:, 0])
            guess = filter_sequence(probs, t, beta).argmax(axis=1)
            correct += int(np.sum(guess[face] == labels[face]))
            frames += int(face.sum())
        accuracy[beta] = correct / frames
    return accuracy


def main() -> None:
    parser = CommandLineParser(description="fits the oracle's emission exponent on the training sequences")
    parser.parse_args()
    accuracy = fit_beta()
    for beta, value in accuracy.items():
        print(f"beta {beta:.2f}: accuracy {value:.4f}")
    print(f"best beta: {max(accuracy, key=accuracy.get)}")


if __name__ == "__main__":
    main()
