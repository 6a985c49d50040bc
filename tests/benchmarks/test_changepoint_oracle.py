"""The change-point oracle: evidence from one face saturates, and a new face starts a new segment."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.changepoint_oracle import (
    ChangePointOracle,
    EmissionLaw,
    erlang2_log_survival,
    features,
    filter_sequence,
    fit_emission_law,
)
from smoothing.base import NUM_CLASSES
from smoothing.synthetic import synthetic_sequences

HAPPY, NEUTRAL = 3, 6


def sharp(label: int, confidence: float = 0.9) -> np.ndarray:
    p = np.full(NUM_CLASSES, (1 - confidence) / (NUM_CLASSES - 1))
    p[label] = confidence
    return p


def law_from_ideal_faces() -> EmissionLaw:
    """Class centres at the features of a confident output of that class; modest spreads."""
    centre = np.array([features(sharp(c)) for c in range(NUM_CLASSES)])
    return EmissionLaw(centre, np.full((NUM_CLASSES, NUM_CLASSES), 0.5), np.full(NUM_CLASSES, 0.1), 0.5)


def test_features_are_centred_log_probabilities() -> None:
    x = features(sharp(HAPPY))
    assert x.sum() == pytest.approx(0.0, abs=1e-12)
    assert x.argmax() == HAPPY


def test_erlang2_survival_starts_at_one_and_decays() -> None:
    rate = np.array([2.0])
    assert erlang2_log_survival(np.array([0.0]), rate)[0] == 0.0
    # P(Erlang-2 > 1 s) at rate 2 per s = e^-2 (1 + 2)
    assert np.exp(erlang2_log_survival(np.array([1.0]), rate)[0]) == pytest.approx(3 * np.exp(-2.0))


def test_a_steady_face_is_believed_and_a_new_face_takes_over() -> None:
    oracle = ChangePointOracle(law_from_ideal_faces())
    t = 0.0
    for _ in range(30):
        belief = oracle.update(sharp(NEUTRAL), t)
        t += 1 / 15
    assert belief.argmax() == NEUTRAL
    for _ in range(30):
        belief = oracle.update(sharp(HAPPY), t)
        t += 1 / 15
    assert belief.argmax() == HAPPY  # a new segment hypothesis explains the new face
    np.testing.assert_allclose(belief.sum(), 1.0)


def test_frames_without_a_face_keep_the_belief_a_distribution() -> None:
    oracle = ChangePointOracle(law_from_ideal_faces())
    oracle.update(sharp(HAPPY), 0.0)
    belief = oracle.update(None, 2.0)
    assert np.all(belief >= 0) and belief.sum() == pytest.approx(1.0)


def test_fitted_law_has_a_centre_per_class_and_positive_spreads() -> None:
    sequences = synthetic_sequences(count=4, duration_s=30.0, seed=3)
    law = fit_emission_law(sequences)
    assert law.centre.shape == (NUM_CLASSES, NUM_CLASSES)
    assert np.all(law.between > 0) and np.all(law.within > 0)
    probs, t, labels, _ = sequences.sequence(0)
    beliefs = filter_sequence(probs, t, law)
    face = ~np.isnan(probs[:, 0])
    assert np.mean(beliefs[face].argmax(axis=1) == labels[face]) > 1 / NUM_CLASSES  # far better than chance
