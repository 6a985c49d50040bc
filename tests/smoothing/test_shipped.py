"""Behaviour of the shipped learned smoothers (hmm, rnn, lstm) on streams made in the test."""

from __future__ import annotations

import numpy as np
import pytest

import smoothing
from models.labels import FER2013_TRAINING_COUNTS
from smoothing.base import NOMINAL_FRAME_PERIOD_S, NUM_CLASSES
from smoothing.fitting.synthetic import as_updates, synthetic_stream

LEARNED = [("hmm", {}), ("rnn", {}), ("rnn", {"gap": "recursive"}), ("lstm", {}), ("lstm", {"gap": "recursive"})]
MAX_FOLLOW_S: float = 2.0  # a clear, lasting change of expression must show within this
HAPPY, SAD, NEUTRAL = 3, 4, 6


def ids(config) -> str:
    name, options = config
    return name + "".join(f"-{v}" for v in options.values())


def confident(label: int, p: float = 0.9) -> np.ndarray:
    out = np.full(NUM_CLASSES, (1 - p) / (NUM_CLASSES - 1))
    out[label] = p
    return out


@pytest.mark.parametrize("config", LEARNED, ids=ids)
def test_beats_the_raw_classifier_on_a_noisy_stream(config):
    """Streams shaped like the CNN's outputs (correlated noise, FER class balance) with 30% of frames dropped."""
    name, options = config
    class_prior = np.array(FER2013_TRAINING_COUNTS) / sum(FER2013_TRAINING_COUNTS)
    raw_hits = smooth_hits = 0
    for seed in range(3):
        probs, t, labels = synthetic_stream(30.0, seed=300 + seed, class_prior=class_prior)
        keep = np.random.default_rng(seed).random(len(t)) > 0.3
        probs, t, labels = probs[keep], t[keep], labels[keep]
        smoother = smoothing.create(name, **options)
        beliefs = np.array([smoother.update(row, ti) for row, ti in zip(as_updates(probs), t, strict=True)])
        face = ~np.isnan(probs[:, 0])
        raw_hits += np.sum(np.argmax(probs[face], axis=1) == labels[face])
        smooth_hits += np.sum(np.argmax(beliefs[face], axis=1) == labels[face])
    assert smooth_hits > raw_hits


@pytest.mark.parametrize("config", LEARNED, ids=ids)
def test_follows_a_clear_change_without_flicker(config):
    name, options = config
    smoother = smoothing.create(name, **options)
    t = np.arange(0.0, 6.0, NOMINAL_FRAME_PERIOD_S)
    labels = np.array([np.argmax(smoother.update(confident(HAPPY if ti < 3 else SAD), ti)) for ti in t])
    assert labels[np.searchsorted(t, MAX_FOLLOW_S)] == HAPPY
    assert np.all(labels[t >= 3 + MAX_FOLLOW_S] == SAD)
    changes = labels[1:][np.diff(labels) != 0]
    assert len(changes) <= 3 and set(changes.tolist()) <= {HAPPY, SAD, NEUTRAL}  # at most a pass through neutral


@pytest.mark.parametrize("config", LEARNED, ids=ids)
def test_a_long_stall_relaxes_toward_the_prior(config):
    name, options = config
    smoother = smoothing.create(name, **options)
    prior = smoother.predict(0.0)
    for ti in np.arange(0.0, 3.0, NOMINAL_FRAME_PERIOD_S):
        held = smoother.update(confident(HAPPY), ti)
    during = smoother.predict(3.0 + 4.0)  # four seconds without a frame
    assert during[HAPPY] < held[HAPPY]
    assert np.abs(during - prior).sum() < np.abs(held - prior).sum()
