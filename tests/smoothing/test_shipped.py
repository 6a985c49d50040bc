"""Behaviour of the shipped learned smoothers (the HMM and the recurrent nets) on streams made in the test."""

from __future__ import annotations

import numpy as np
import pytest

import smoothing
from smoothing.base import NOMINAL_FRAME_PERIOD_S, NUM_CLASSES
from smoothing.fitting.synthetic import beats_raw_on_noisy_streams
from smoothing.registry import run_online
from tests.smoothing import LEARNED

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
    """Streams shaped like the CNN's outputs (correlated noise, FER class balance) with 30% of frames dropped: the
    fits keep only settings and epochs that pass this (smoothing.fitting.synthetic.beats_raw_on_noisy_streams)."""
    name, options = config
    assert beats_raw_on_noisy_streams(lambda probs, t: run_online(smoothing.create(name, **options), probs, t))


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
