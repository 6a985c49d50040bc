"""The quality benchmark's machinery on small synthetic streams: drop patterns, rows, and the target check."""

from __future__ import annotations

import numpy as np
import pytest

import smoothing
from benchmarks.changepoint_oracle import oracle_emission_law
from benchmarks.configs import CHANGEPOINT_ORACLE, MARKOV_ORACLE, ORACLES, SETTINGS, Config, DropPattern, configurations
from benchmarks.quality import check_targets, evaluate_setting, make_cases
from smoothing.fitting.synthetic import synthetic_sequences


@pytest.fixture(scope="module")
def sequences():
    return synthetic_sequences(count=3, duration_s=20.0, seed=5)


def test_every_registered_smoother_has_an_online_row_and_the_oracles_close_the_table() -> None:
    labels = [c.label for c in configurations()]
    for name in smoothing.available():
        assert any(label == name or label.startswith(f"{name} (") for label in labels)
    assert {"rnn (time-aware)", "rnn (recursive)", "lstm (time-aware)", "lstm (recursive)"} <= set(labels)
    assert {"hmm offline", "rnn offline", "lstm offline"} <= set(labels)
    assert tuple(labels[-len(ORACLES) :]) == ORACLES


def test_the_four_settings_are_no_drops_two_rates_and_stalls() -> None:
    assert [p.rate for p in SETTINGS.values()] == [0.0, 0.3, 0.6, 0.3]
    stalls = SETTINGS["30% in stalls"]
    assert stalls.stall_share + stalls.burst_share == pytest.approx(1.0)


def test_cases_drop_the_asked_share_but_keep_every_true_change(sequences) -> None:
    full = make_cases(sequences, DropPattern(0.0))
    dropped = make_cases(sequences, DropPattern(0.6))
    for whole, part in zip(full, dropped, strict=True):
        assert len(part.t) == pytest.approx(0.4 * len(whole.t), abs=1)
        np.testing.assert_array_equal(part.changes.t, whole.changes.t)  # changes come from all frames
        assert part.t[0] == whole.t[0]  # every sequence starts at its start


def test_rows_carry_every_metric_and_the_distance_to_the_better_oracle(sequences) -> None:
    configs = [Config("none", "none"), Config("hmm", "hmm"), Config("hmm offline", "hmm", offline=True)]
    configs += [Config(label, label) for label in ORACLES]
    table = evaluate_setting(make_cases(sequences, DropPattern(0.3)), configs, oracle_emission_law(sequences))
    for row in table.values():
        assert 0.0 <= row["accuracy"] <= 1.0
        assert 0.0 <= row["median_lag_s"] <= row["p90_lag_s"]
        assert row["switches_per_min"] >= 0 and row["truth_switches_per_min"] > 0
        assert np.isfinite(row["nll"])
    best = max(table[MARKOV_ORACLE]["accuracy"], table[CHANGEPOINT_ORACLE]["accuracy"])
    assert min(table[label]["points_below_oracle"] for label in ORACLES) == 0.0
    assert table["none"]["points_below_oracle"] == pytest.approx(100 * (best - table["none"]["accuracy"]))


def row(accuracy: float, lag: float) -> dict[str, float]:
    return {"accuracy": accuracy, "median_lag_s": lag, "points_below_oracle": 100 * (0.70 - accuracy)}


def test_targets_need_more_accuracy_at_no_more_lag_than_the_best_window() -> None:
    configs = [Config("window-mode", "window-mode"), Config("hmm", "hmm"), Config("lstm", "lstm")]
    table = {"window-mode": row(0.55, 0.5), "hmm": row(0.60, 0.4), "lstm": row(0.68, 0.9)}
    table |= {MARKOV_ORACLE: row(0.62, 0.3), CHANGEPOINT_ORACLE: row(0.70, 0.3)}
    [target] = check_targets({"30% drops": table}, configs)
    assert target["best_online"] == "lstm"
    assert not target["beats_window_at_no_more_lag"]  # most accurate, but slower than the window
    assert target["best_no_slower_than_window"] == "hmm"
    assert target["oracle"] == CHANGEPOINT_ORACLE  # the tighter bound of the two
    assert target["within_oracle"]  # 2 points below

    table["lstm"] = row(0.66, 0.45)
    [target] = check_targets({"30% drops": table}, configs)
    assert target["beats_window_at_no_more_lag"]
    assert not target["within_oracle"]  # 4 points below
