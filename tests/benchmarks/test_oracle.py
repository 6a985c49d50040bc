"""The oracle filter: the exact continuous-time chain behind the generator's Erlang-2 dwell times."""

from __future__ import annotations

import numpy as np
import scipy.linalg

from benchmarks.oracle import PHASES, OracleFilter, initial_belief, phase_generator
from smoothing.base import NUM_CLASSES
from smoothing.fitting.sequences import jump_matrix, mean_dwells, occupancy


def test_the_phase_generator_is_a_rate_matrix() -> None:
    q = phase_generator()
    assert q.shape == (NUM_CLASSES * PHASES, NUM_CLASSES * PHASES)
    np.testing.assert_allclose(q.sum(axis=1), 0.0, atol=1e-12)
    assert np.all(q - np.diag(np.diag(q)) >= 0)


def test_mean_time_in_an_emotion_is_the_generators_mean_dwell() -> None:
    q = phase_generator()
    for emotion in range(NUM_CLASSES):
        block = slice(emotion * PHASES, (emotion + 1) * PHASES)
        # expected time to absorption from phase 0 of a phase-type law: -e0 @ inv(T) @ 1
        expected = -np.linalg.solve(q[block, block].T, np.eye(PHASES)[0]).sum()
        assert np.isclose(expected, mean_dwells()[emotion])


def test_exits_from_an_emotion_follow_the_jump_matrix() -> None:
    q = phase_generator()
    last = PHASES - 1
    for emotion in range(NUM_CLASSES):
        exits = q[emotion * PHASES + last, np.arange(NUM_CLASSES) * PHASES]
        np.testing.assert_allclose(exits / exits.sum(), jump_matrix()[emotion])


def test_with_no_evidence_the_belief_settles_to_the_generators_occupancy() -> None:
    settled = initial_belief() @ scipy.linalg.expm(phase_generator() * 200.0)
    np.testing.assert_allclose(settled.reshape(NUM_CLASSES, PHASES).sum(axis=1), occupancy(), atol=1e-6)


def test_strong_evidence_moves_the_belief_and_predict_leaves_it_alone() -> None:
    oracle = OracleFilter(beta=1.0, class_prior=np.full(NUM_CLASSES, 1 / NUM_CLASSES))
    happy = np.full(NUM_CLASSES, 0.01)
    happy[3] = 1 - 0.06
    for i in range(10):
        belief = oracle.update(happy, i / 15)
    assert belief.argmax() == 3
    before = oracle.belief.copy()
    later = oracle.predict(10.0)
    np.testing.assert_allclose(oracle.belief, before)
    assert later[3] < belief[3]  # a long silence lets the belief drift back toward the occupancy
    np.testing.assert_allclose(later.sum(), 1.0)
