"""The evaluation's metrics on hand-made cases, and the shipped smoothers on real sequences when cached."""

from __future__ import annotations

import numpy as np
import pytest

from smoothing.base import NUM_CLASSES
from smoothing.fitting.evaluate import (
    CANDIDATES,
    MAX_SWITCH_RATIO,
    Arrived,
    arrived_sequences,
    evaluate,
    macro_f1,
    score,
    segment_vote,
)
from smoothing.fitting.sequences import cache_path, load


def one_hots(labels) -> np.ndarray:
    return np.eye(NUM_CLASSES)[labels]


def test_segment_vote_labels_each_segment_with_its_majority_raw_label():
    probs = one_hots([3, 3, 0, 3, 1, 1, 2, 2]).astype(float)
    probs[3] = np.nan  # no face: no vote, but it still belongs to its segment
    seq = Arrived(probs, np.arange(8.0), np.array([3, 3, 3, 3, 1, 1, 1, 1]), np.array([0, 0, 0, 0, 1, 1, 1, 1]), 8.0)
    votes = segment_vote(seq).argmax(axis=1)
    np.testing.assert_array_equal(votes, [3, 3, 3, 3, 1, 1, 1, 1])  # 1 vs 2 ties: the lower class index wins


def test_score_counts_switches_over_scored_frames_only():
    labels = np.array([0, 0, 0, 1, 1, 1])
    probs = one_hots(labels).astype(float)
    probs[4] = np.nan
    seq = Arrived(probs, np.arange(6.0), labels, np.array([0, 0, 0, 1, 1, 1]), 30.0)
    beliefs = one_hots([0, 2, 0, 1, 5, 1])  # the no-face frame's flicker is not scored
    result = score([beliefs], [seq])
    assert result["accuracy"] == pytest.approx(4 / 5)
    assert result["switches_per_min"] == pytest.approx(3 / 0.5)
    assert result["truth_switches_per_min"] == pytest.approx(1 / 0.5)
    assert result["switch_ratio"] == pytest.approx(3.0)


def test_macro_f1_on_a_known_case():
    truth = np.array([0, 0, 1, 1])
    predicted = np.array([0, 1, 1, 1])
    # class 0: tp 1, fp 0, fn 1 -> 2/3; class 1: tp 2, fp 1, fn 0 -> 4/5
    assert macro_f1(truth, predicted) == pytest.approx((2 / 3 + 4 / 5) / 2)


@pytest.mark.skipif(not cache_path("publictest").is_file(), reason="PublicTest sequences not built (.cache)")
def test_the_default_beats_raw_and_nothing_flickers_on_synthetic_sequences():
    """25 PublicTest sequences at 30% drops. The smoothers are fitted to real clips (benchmarks real is the judge), so
    on the generator's sequences, one still face per segment and a new expression every few seconds, only the
    default HMM (online and offline) has to beat the raw classifier; every learned smoother must not flicker. The nets
    fine-tuned on real faces, which hold expressions for longer, lag these changes: on sequences built with classifier
    v3, raw 0.640, hmm 0.661, rnn 0.650, gru 0.611, lstm 0.581 (README, Quality on synthetic sequences)."""
    sequences = load(cache_path("publictest"))
    arrived = arrived_sequences(sequences.subset(np.arange(25)), 0.3, seed=4242)
    results = evaluate(arrived)
    for name in CANDIDATES:
        row = results[name if name in ("hmm", "changepoint") else f"{name} (time-aware)"]
        assert row["switch_ratio"] <= MAX_SWITCH_RATIO
    assert results["hmm"]["gap_closed"] > 0  # more accurate than the raw classifier
    assert results["hmm offline"]["accuracy"] >= results["hmm"]["accuracy"] - 0.01
