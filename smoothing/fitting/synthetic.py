"""Small synthetic streams for the smoother tests and the quick benchmark: a semi-Markov emotion path and noisy,
time-correlated classifier outputs, so neither needs the CNN nor FER2013."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from models.labels import FER2013_TRAINING_COUNTS
from smoothing.base import NOMINAL_FRAME_PERIOD_S, NUM_CLASSES
from smoothing.fitting.sequences import Sequences, frame_times, sample_path

SIGNAL: float = 1.6  # logit boost of the true class: per-frame accuracy around 50%, as for a FER-level CNN
FACE_BIAS_STD: float = 0.6  # each segment's face leans its own way, as a real face does
NOISE_STD: float = 1.0
NOISE_CORRELATION: float = 0.7  # consecutive frames of one face look alike
NO_FACE_SHARE: float = 0.05


def synthetic_stream(
    duration_s: float, seed: int, period_s: float = NOMINAL_FRAME_PERIOD_S, class_prior: np.ndarray | None = None
):
    """(probs (T, 7) with NaN rows for no face, t, labels) of one stream; with class_prior the outputs lean toward
    it as those of a classifier trained on that class balance do."""
    rng = np.random.default_rng(seed)
    path_labels, starts = sample_path(duration_s, rng)
    t = frame_times(duration_s, rng, period_s)
    segment = np.searchsorted(starts, t, side="right") - 1
    labels = path_labels[segment]
    bias = rng.normal(0.0, FACE_BIAS_STD, (len(starts), NUM_CLASSES))
    noise = np.empty((len(t), NUM_CLASSES))
    noise[0] = rng.normal(0.0, NOISE_STD, NUM_CLASSES)
    shocks = rng.normal(0.0, NOISE_STD * np.sqrt(1 - NOISE_CORRELATION**2), (len(t), NUM_CLASSES))
    for i in range(1, len(t)):
        noise[i] = NOISE_CORRELATION * noise[i - 1] + shocks[i]
    logits = SIGNAL * np.eye(NUM_CLASSES)[labels] + bias[segment] + noise
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    if class_prior is not None:
        probs *= class_prior
    probs /= probs.sum(axis=1, keepdims=True)
    probs[rng.random(len(t)) < NO_FACE_SHARE] = np.nan
    return probs, t, labels


def as_updates(probs: np.ndarray):
    """NaN rows as None, the form update() takes."""
    return [None if np.isnan(row[0]) else row for row in probs]


# A generic noisy stream no smoother may read worse than the raw label does: a FER-level classifier's outputs
# (correlated noise, FER2013's class balance) on expressions changing every few seconds, 30% of frames dropped. The
# fits keep only settings and epochs that pass it, and tests/smoothing/test_shipped.py checks the shipped ones.
NOISY_CHECK_S: float = 30.0
NOISY_CHECK_SEEDS: tuple[int, ...] = (300, 301, 302)
NOISY_CHECK_DROP_RATE: float = 0.3


def noisy_check_streams() -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(probs, t, labels) of the noisy check streams, their drops already taken out (NaN rows: no face)."""
    class_prior = np.array(FER2013_TRAINING_COUNTS) / sum(FER2013_TRAINING_COUNTS)
    streams = []
    for index, seed in enumerate(NOISY_CHECK_SEEDS):
        probs, t, labels = synthetic_stream(NOISY_CHECK_S, seed=seed, class_prior=class_prior)
        keep = np.random.default_rng(index).random(len(t)) > NOISY_CHECK_DROP_RATE
        streams.append((probs[keep], t[keep], labels[keep]))
    return streams


def beats_raw_on_noisy_streams(beliefs_of: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> bool:
    """Whether beliefs_of(probs, t) -> (T, 7) shows the true label on more of the noisy streams' face frames than
    the raw label does."""
    raw_hits = smoothed_hits = 0
    for probs, t, labels in noisy_check_streams():
        face = ~np.isnan(probs[:, 0])
        raw_hits += np.sum(np.argmax(probs[face], axis=1) == labels[face])
        smoothed_hits += np.sum(np.argmax(beliefs_of(probs, t)[face], axis=1) == labels[face])
    return bool(smoothed_hits > raw_hits)


def synthetic_sequences(count: int, duration_s: float, seed: int) -> Sequences:
    """count synthetic streams in the Sequences form of the cached CNN sequences (segments from label changes)."""
    parts = [synthetic_stream(duration_s, seed + i) for i in range(count)]
    segments = [np.concatenate([[0], np.cumsum(labels[1:] != labels[:-1])]) for _, _, labels in parts]
    return Sequences(
        np.concatenate([p for p, _, _ in parts]).astype(np.float32),
        np.concatenate([t for _, t, _ in parts]),
        np.concatenate([labels for _, _, labels in parts]),
        np.concatenate(segments),
        np.concatenate([[0], np.cumsum([len(t) for _, t, _ in parts])]),
    )


# A face holding one expression, seen by an unsure classifier: the held label wins 95% of frames, by a little.
STEADY_SHARE: float = 0.95
STEADY_HELD_PROB: float = 0.5
STEADY_ODD_PROB: float = 0.45  # the other 5% of frames: another label wins, by a little less
STEADY_SPREAD: float = 0.1  # probability mass spread at random over all classes, as real outputs have
CLEAR_PROB: float = 0.85  # a broad smile or a wide-eyed surprise: the classifier is sure


def steady_stream(
    held: int, duration_s: float, seed: int, fps: float = 30.0, held_prob: float = STEADY_HELD_PROB
) -> tuple[np.ndarray, np.ndarray]:
    """(probs (T, 7), t) of a steady expression `held`: the crying face whose raw label is `sad` on 95% of frames,
    which every learned smoother must show within a second (tests/smoothing/test_steady_label.py)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(duration_s * fps)) / fps
    probs = rng.dirichlet(np.ones(NUM_CLASSES), len(t)) * STEADY_SPREAD
    others = [c for c in range(NUM_CLASSES) if c != held]
    for row in probs:
        winner = held if rng.random() < STEADY_SHARE else int(rng.choice(others))
        top = held_prob if winner == held else min(STEADY_ODD_PROB, held_prob)
        row += (1.0 - STEADY_SPREAD - top) / (NUM_CLASSES - 1)
        row[winner] += top - (1.0 - STEADY_SPREAD - top) / (NUM_CLASSES - 1)
    return probs / probs.sum(axis=1, keepdims=True), t


def onset_stream(before: int, after: int, before_s: float, after_s: float, seed: int, fps: float = 30.0):
    """(probs, t, onset time): a clear expression `before` held, then a clear `after` from one frame to the next, as
    a face breaking into a broad smile; how soon a smoother follows is its lag on a sudden change."""
    first, t_first = steady_stream(before, before_s, seed, fps, CLEAR_PROB)
    second, t_second = steady_stream(after, after_s, seed + 1, fps, CLEAR_PROB)
    onset = len(t_first) / fps
    return np.vstack([first, second]), np.concatenate([t_first, t_second + onset]), onset
