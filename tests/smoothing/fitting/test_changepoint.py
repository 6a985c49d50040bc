"""The change-point smoother: evidence from one face saturates, and a new face starts a new expression."""

from __future__ import annotations

import numpy as np
import pytest

import smoothing
from smoothing.base import NUM_CLASSES
from smoothing.fitting.changepoint import (
    ChangePointSmoother,
    EmissionLaw,
    SegmentLaw,
    erlang2_log_survival,
    features,
    load_changepoint_params,
)
from smoothing.fitting.changepoint_fit import fit_emission_law, fit_segment_law
from smoothing.fitting.sequences import jump_matrix, mean_dwells, occupancy
from smoothing.fitting.synthetic import as_updates, synthetic_sequences

HAPPY, NEUTRAL = 3, 6


def sharp(label: int, confidence: float = 0.9) -> np.ndarray:
    p = np.full(NUM_CLASSES, (1 - confidence) / (NUM_CLASSES - 1))
    p[label] = confidence
    return p


def law_from_ideal_faces() -> EmissionLaw:
    """Class centres at the features of a confident output of that class; modest spreads."""
    centre = np.array([features(sharp(c)) for c in range(NUM_CLASSES)])
    return EmissionLaw(centre, np.full((NUM_CLASSES, NUM_CLASSES), 0.5), np.full(NUM_CLASSES, 0.1), 0.5)


def ideal_smoother() -> ChangePointSmoother:
    return ChangePointSmoother(
        emission=law_from_ideal_faces(), segments=SegmentLaw(mean_dwells(), jump_matrix(), occupancy())
    )


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
    oracle = ideal_smoother()
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
    oracle = ideal_smoother()
    oracle.update(sharp(HAPPY), 0.0)
    belief = oracle.update(None, 2.0)
    assert np.all(belief >= 0) and belief.sum() == pytest.approx(1.0)


def test_one_odd_frame_is_not_yet_a_new_expression_but_a_few_are() -> None:
    smoother = ChangePointSmoother()  # the shipped parameters
    for i in range(45):
        smoother.update(sharp(NEUTRAL), i / 15)
    beliefs = [smoother.update(sharp(HAPPY), (45 + k) / 15) for k in range(3)]
    assert beliefs[0].argmax() == NEUTRAL
    assert beliefs[-1].argmax() == HAPPY


def test_laws_fitted_on_labelled_streams_beat_chance_on_fresh_ones() -> None:
    fitted = synthetic_sequences(count=12, duration_s=40.0, seed=3)
    emission, segments = fit_emission_law(fitted, 0.2), fit_segment_law(fitted)
    assert emission.centre.shape == (NUM_CLASSES, NUM_CLASSES)
    assert np.all(emission.between > 0) and np.all(emission.within > 0)
    np.testing.assert_allclose(segments.jumps.sum(axis=1), 1.0)
    assert np.all(np.diag(segments.jumps) == 0)  # an expression never follows itself
    probs, t, labels, _ = synthetic_sequences(count=1, duration_s=40.0, seed=99).sequence(0)
    smoother = ChangePointSmoother(emission=emission, segments=segments)
    beliefs = np.array([smoother.update(row, ti) for row, ti in zip(as_updates(probs), t, strict=True)])
    face = ~np.isnan(probs[:, 0])
    assert np.mean(beliefs[face].argmax(axis=1) == labels[face]) > 2 / NUM_CLASSES


def test_shipped_parameters_load_and_are_sane() -> None:
    emission, segments = load_changepoint_params()
    assert 0 < emission.information_share <= 1
    assert np.all(segments.mean_dwells > 0.5) and np.all(segments.mean_dwells < 10)
    assert segments.prior.argmax() == NUM_CLASSES - 1  # neutral is the most common state
    assert "changepoint" not in smoothing.available()  # retired on real faces; the synthetic oracle's filter only
