"""`python -m benchmarks NAME --quick` as a user runs it: the smoke run writes its report, well-formed, stamped with
commit and date. One benchmark goes through the command line here (quality, which has no in-process test); the
others' quick runs are tested in-process beside their modules, so no quick run is paid for twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.errors import EXIT_ERROR, EXIT_USAGE
from tests.benchmarks.conftest import refusal, run_benchmarks

QUICK_TIMEOUT_S = 600  # generous: a smoke test of the files, not of speed (the benchmark reports speed)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("results")
    done = run_benchmarks("quality", "--quick", "--out", str(out), timeout_s=QUICK_TIMEOUT_S)
    assert done.returncode == 0, done.stderr
    return out


@pytest.mark.parametrize("name", ["quality"])
def test_the_benchmark_writes_json_markdown_and_plots(results: Path, name: str) -> None:
    data = json.loads((results / f"{name}.json").read_text())
    assert data["meta"]["quick"] is True
    assert len(data["meta"]["commit"].split("-")[0]) == 40
    assert data["meta"]["date"].startswith("20")
    assert data["meta"]["cpu_count"] >= 1
    markdown = (results / f"{name}.md").read_text()
    assert "|---|" in markdown
    plots = sorted(results.glob(f"{name}-*.png"))
    assert plots
    for plot in plots:
        assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_quality_json_has_every_setting_target_and_the_real_video_row(results: Path) -> None:
    data = json.loads((results / "quality.json").read_text())
    assert list(data["results"]) == ["0% drops", "30% drops", "60% drops", "30% in stalls"]
    assert len(data["targets"]) == 4
    assert "sample_face.mp4" in data["real_video"]
    for table in data["results"].values():
        assert {"oracle (Markov)", "oracle (change-point)", "hmm offline"} <= set(table)


def test_an_unknown_benchmark_is_a_one_line_error(capsys) -> None:
    code, err = refusal(capsys, "speed")
    assert code == EXIT_USAGE
    assert err.startswith("error: argument BENCHMARK: invalid choice: 'speed'") and err.count("\n") == 1


def test_an_unwritable_results_folder_is_a_one_line_error_before_any_measuring(tmp_path: Path, capsys) -> None:
    blocker = tmp_path / "results"
    blocker.write_text("a file where the folder should be")
    code, err = refusal(capsys, "--out", str(blocker))
    assert code == EXIT_ERROR
    assert err.strip().count("\n") == 0
    assert "cannot write results" in err
