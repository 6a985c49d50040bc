"""The continuous-time HMM: transitions, gap handling, offline smoothing, fitting and the shipped parameters."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

import smoothing
from smoothing.base import NOMINAL_FRAME_PERIOD_S, NUM_CLASSES
from smoothing.fitting.hmm_fit import BETA_GRID, RATE_SCALE_GRID, estimate_generator, filtered_scores, fit_emission
from smoothing.fitting.sequences import jump_matrix, mean_dwells
from smoothing.fitting.synthetic import as_updates, synthetic_stream
from smoothing.smoothers.hmm import (
    DEFAULT_HMM_OFFLINE_PARAMS,
    DEFAULT_HMM_PARAMS,
    HMMSmoother,
    TransitionMatrices,
    load_hmm_params,
    stationary_distribution,
)

CLASS_PRIOR = np.array([0.14, 0.015, 0.14, 0.25, 0.17, 0.11, 0.175])  # FER2013-like, for the Bayes-rule check
UNBIASED = np.full(NUM_CLASSES, 1 / NUM_CLASSES)  # the synthetic classifier favours no class


def markov_generator() -> np.ndarray:
    """The generator matching the sequence generator's jump chain and mean dwells."""
    q = jump_matrix() / mean_dwells()[:, None]
    np.fill_diagonal(q, -q.sum(axis=1))
    return q


def synthetic_hmm(beta: float = 0.5, class_prior: np.ndarray = UNBIASED) -> HMMSmoother:
    return HMMSmoother(generator=markov_generator(), class_prior=class_prior, beta=beta)


@pytest.mark.parametrize("dt", [0.0, 0.01, NOMINAL_FRAME_PERIOD_S, 0.7, 3.0, 40.0])
def test_transitions_match_scipy_expm(dt):
    q = markov_generator()
    np.testing.assert_allclose(TransitionMatrices(q)(dt), scipy.linalg.expm(q * dt), atol=1e-10)


def test_stationary_distribution_is_fixed_by_the_chain():
    q = markov_generator()
    pi = stationary_distribution(q)
    np.testing.assert_allclose(pi @ q, 0.0, atol=1e-12)
    np.testing.assert_allclose(pi @ scipy.linalg.expm(q * 2.0), pi, atol=1e-12)


def test_rejects_a_matrix_that_is_not_a_generator():
    q = markov_generator()
    q[0, 0] += 0.1
    with pytest.raises(ValueError):
        HMMSmoother(generator=q, class_prior=CLASS_PRIOR, beta=0.5)


@pytest.mark.parametrize("k", [1, 2, 5, 30])
def test_dropped_frames_equal_one_step_over_the_whole_gap(k):
    probs, t, _ = synthetic_stream(3.0, seed=2)
    faces = [row for row in as_updates(probs) if row is not None]
    period = NOMINAL_FRAME_PERIOD_S
    stepped, jumped = synthetic_hmm(), synthetic_hmm()
    for i, p in enumerate(faces[:10]):
        stepped.update(p, i * period)
        jumped.update(p, i * period)
    start = 9 * period
    for j in range(1, k):
        stepped.update(None, start + j * period)
    np.testing.assert_allclose(
        stepped.update(faces[10], start + k * period), jumped.update(faces[10], start + k * period), atol=1e-10
    )


def test_predict_is_the_propagated_belief():
    hmm = synthetic_hmm()
    belief = hmm.update(np.array([0.05, 0.05, 0.05, 0.6, 0.1, 0.05, 0.1]), 1.0)
    np.testing.assert_allclose(hmm.predict(1.8), belief @ scipy.linalg.expm(markov_generator() * 0.8), atol=1e-10)


@pytest.mark.parametrize("missing", [1, 3, 10, 45])
def test_the_shipped_filter_predicts_across_dropped_frames_through_expm_of_the_gap(missing):
    """A dropped frame's row is the last belief carried through expm(Q dt) for the whole gap, whatever route
    TransitionMatrices takes (eigenvectors or scipy's expm)."""
    hmm = smoothing.create("hmm")
    probs, t, _ = synthetic_stream(2.0, seed=6)
    for row, ti in zip(as_updates(probs), t, strict=True):
        belief = hmm.update(row, ti)
    gap = missing * NOMINAL_FRAME_PERIOD_S
    expected = belief @ scipy.linalg.expm(hmm.transitions.generator * gap)
    np.testing.assert_allclose(hmm.predict(t[-1] + gap), expected / expected.sum(), atol=1e-10)


def test_filter_update_is_bayes_rule():
    hmm = synthetic_hmm(beta=0.7, class_prior=CLASS_PRIOR)
    p = np.array([0.1, 0.05, 0.05, 0.5, 0.1, 0.1, 0.1])
    prior = stationary_distribution(markov_generator())
    expected = prior * (p / CLASS_PRIOR) ** 0.7
    np.testing.assert_allclose(hmm.update(p, 0.0), expected / expected.sum(), atol=1e-12)


def accuracy(beliefs: np.ndarray, labels: np.ndarray, face: np.ndarray) -> float:
    return float(np.mean(np.argmax(beliefs[face], axis=1) == labels[face]))


def test_offline_is_at_least_as_accurate_as_online():
    online_hits = offline_hits = 0.0
    for seed in range(6):
        probs, t, labels = synthetic_stream(40.0, seed=100 + seed)
        keep = np.random.default_rng(seed).random(len(t)) > 0.3
        probs, t, labels = probs[keep], t[keep], labels[keep]
        face = ~np.isnan(probs[:, 0])
        hmm = synthetic_hmm()
        online = np.array([hmm.update(row, ti) for row, ti in zip(as_updates(probs), t, strict=True)])
        offline = hmm.smooth_offline(probs, t)
        online_hits += accuracy(online, labels, face)
        offline_hits += accuracy(offline, labels, face)
    assert offline_hits >= online_hits


def test_offline_last_frame_equals_the_filter_and_long_gaps_cut_the_chain():
    probs, t, _ = synthetic_stream(10.0, seed=4)
    t = t.copy()
    t[len(t) // 2 :] += 100.0  # a gap far beyond MAX_GAP_S
    hmm = synthetic_hmm()
    online = np.array([hmm.update(row, ti) for row, ti in zip(as_updates(probs), t, strict=True)])
    offline = hmm.smooth_offline(probs, t)
    np.testing.assert_allclose(offline[-1], online[-1], atol=1e-10)
    half = len(t) // 2
    np.testing.assert_allclose(offline[half - 1], hmm.smooth_offline(probs[:half], t[:half])[-1], atol=1e-10)


def test_offline_through_the_registry_uses_forward_backward_with_the_offline_fit():
    probs, t, _ = synthetic_stream(10.0, seed=8)
    offline_fit = HMMSmoother(params=DEFAULT_HMM_OFFLINE_PARAMS)
    np.testing.assert_allclose(smoothing.smooth_offline("hmm", probs, t), offline_fit.forward_backward(probs, t))


def simulate_chain(q: np.ndarray, duration_s: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A Markov path sampled at 15 fps from generator q."""
    times, states, now, state = [], [], 0.0, 6
    while now < duration_s:
        times.append(now)
        states.append(state)
        now += rng.exponential(1.0 / -q[state, state])
        jump = np.clip(q[state], 0, None)
        state = int(rng.choice(NUM_CLASSES, p=jump / jump.sum()))
    t = np.arange(0.0, duration_s, NOMINAL_FRAME_PERIOD_S)
    return np.array(states)[np.searchsorted(times, t, side="right") - 1], t


def test_generator_estimate_recovers_known_rates():
    q = markov_generator()
    rng = np.random.default_rng(0)
    estimate = estimate_generator(simulate_chain(q, 3000.0, rng) for _ in range(3))
    np.testing.assert_allclose(np.diag(estimate), np.diag(q), rtol=0.15)
    np.testing.assert_allclose(estimate.sum(axis=1), 0.0, atol=1e-12)


def test_fitted_beta_discounts_correlated_evidence():
    streams = [synthetic_stream(30.0, seed=200 + s) for s in range(4)]
    beta, scale, tables = fit_emission(streams, markov_generator(), UNBIASED, max_switch_ratio=np.inf)
    assert beta < 1.0  # consecutive frames repeat much of the same evidence
    chosen = tables["log_score"][list(RATE_SCALE_GRID).index(scale), list(BETA_GRID).index(beta)]
    assert chosen == tables["log_score"].max()


def test_fit_respects_the_switch_limit():
    streams = [synthetic_stream(30.0, seed=200 + s) for s in range(4)]
    free = fit_emission(streams, markov_generator(), UNBIASED, max_switch_ratio=np.inf)
    limit = 0.9 * free[2]["switch_ratio"][list(RATE_SCALE_GRID).index(free[1]), list(BETA_GRID).index(free[0])]
    beta, scale, tables = fit_emission(streams, markov_generator(), UNBIASED, max_switch_ratio=limit)
    assert tables["switch_ratio"][list(RATE_SCALE_GRID).index(scale), list(BETA_GRID).index(beta)] <= limit


def test_batched_filter_scores_match_the_smoother():
    probs, t, labels = synthetic_stream(10.0, seed=3)
    hmm = synthetic_hmm(beta=0.4)
    beliefs = np.array([hmm.update(row, ti) for row, ti in zip(as_updates(probs), t, strict=True)])
    face = ~np.isnan(probs[:, 0])
    scores = filtered_scores(probs, t, labels, markov_generator(), UNBIASED, [0.4])
    guesses = np.argmax(beliefs[face], axis=1)
    assert scores.frames == face.sum()
    assert scores.correct[0] == np.sum(guesses == labels[face])
    assert scores.log_score[0] == pytest.approx(np.sum(np.log(beliefs[face, labels[face]])))
    assert scores.switches[0] == np.count_nonzero(np.diff(guesses))
    assert scores.truth_switches == np.count_nonzero(np.diff(labels[face]))


def test_shipped_parameters_are_valid():
    assert DEFAULT_HMM_PARAMS.stat().st_size < 1_000_000
    params = load_hmm_params()
    q = params["generator"]
    assert np.all(q - np.diag(np.diag(q)) >= 0)
    np.testing.assert_allclose(q.sum(axis=1), 0.0, atol=1e-9)
    assert 0 < params["beta"] <= 2
    assert params["class_prior"].sum() == pytest.approx(1.0)
    mean_dwell = -1.0 / np.diag(q)
    assert np.all((mean_dwell > 0.3) & (mean_dwell < 30))  # dwell times of seconds, as the sequences have
