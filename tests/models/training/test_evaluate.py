"""`python -m models.training.evaluate` on a small slice, and its one-line errors (its main() in this process: a fresh
interpreter per case only re-imported torch)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

import models.training.fer_crops as fer_crops
from models.classifier import DEFAULT_WEIGHTS
from models.training.data import DEFAULT_DATA
from models.training.evaluate import classification_metrics, confusion_matrix, main
from models.training.ferplus import DEFAULT_VOTES


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def run_evaluate(capsys: pytest.CaptureFixture):
    def run(*args: str) -> Run:
        code = main(list(args))
        out = capsys.readouterr()
        return Run(code, out.out, out.err)

    return run


def test_confusion_and_metrics_on_a_hand_made_case():
    labels = np.array([0, 0, 3, 3, 6])
    probs = np.eye(7)[[0, 3, 3, 3, 6]]
    assert confusion_matrix(labels, probs.argmax(1))[0].tolist() == [1, 0, 0, 1, 0, 0, 0]
    metrics = classification_metrics(labels, probs)
    assert metrics["accuracy"] == pytest.approx(0.8)
    assert metrics["recall"]["angry"] == pytest.approx(0.5)
    assert metrics["recall"]["happy"] == pytest.approx(1.0)


@pytest.mark.skipif(not DEFAULT_DATA.is_file() or not DEFAULT_WEIGHTS.is_file(), reason="FER2013 or weights missing")
def test_evaluate_prints_every_figure_on_a_small_slice(tmp_path, run_evaluate):
    # the wild and real sections have tests of their own (tests/models/training/test_wild.py)
    result = run_evaluate("--limit", "140", "--json", str(tmp_path / "report.json"), "--skip", "wild", "real")
    assert result.returncode == 0, result.stderr
    for heading in ("accuracy", "macro-F1", "ECE", "recall", "confusion", "latency"):
        assert heading in result.stdout
    assert (tmp_path / "report.json").is_file()
    if DEFAULT_VOTES.is_file():  # both label sets: FER2013's own and the FER+ crowd's majority
        assert "FER+ majority labels: " in result.stdout and "agreement" in result.stdout
    assert "wild stills: skipped (--skip)" in result.stdout
    assert "real clips: skipped (--skip)" in result.stdout


@pytest.mark.skipif(not DEFAULT_WEIGHTS.is_file(), reason="weights missing")
@pytest.mark.parametrize("crops", ["fer", "aligned"])
def test_evaluate_on_any_npz_and_split(tmp_path, monkeypatch, run_evaluate, crops):
    monkeypatch.setattr(fer_crops, "CACHE_DIR", tmp_path / "crops")
    rng = np.random.default_rng(0)
    data = tmp_path / "tiny.npz"
    np.savez(data, x_mysplit=rng.integers(0, 256, (21, 48, 48), dtype=np.uint8), y_mysplit=np.arange(21) % 7)
    result = run_evaluate("--data", str(data), "--split", "mysplit", "--crops", crops, "--skip", "wild", "real")
    assert result.returncode == 0, result.stderr
    assert f"split mysplit: 21 faces ({crops} crops)" in result.stdout
    assert "FER+ majority labels: skipped" in result.stdout  # no such split among the votes


def test_missing_data_or_split_is_a_one_line_error(tmp_path, run_evaluate):
    missing = run_evaluate("--data", str(tmp_path / "absent.npz"))
    assert missing.returncode != 0
    assert missing.stderr.strip().count("\n") == 0 and "not found" in missing.stderr
    data = tmp_path / "tiny.npz"
    np.savez(data, x_a=np.zeros((1, 48, 48), np.uint8), y_a=np.zeros(1))
    wrong_split = run_evaluate("--data", str(data), "--split", "b")
    assert wrong_split.returncode != 0
    assert wrong_split.stderr.strip().count("\n") == 0 and "available: a" in wrong_split.stderr


def test_the_wild_section_scores_each_set_on_its_held_out_stills_only(tiny_corpus, tmp_path):
    from models.classifier import load_classifier, save_checkpoint
    from models.network import EmoNet
    from models.training.evaluate import wild_metrics
    from models.training.wild import SETS, load_wild

    save_checkpoint(EmoNet((4, 8)), 1.0, {}, tmp_path / "tiny.pt")
    report = wild_metrics(load_classifier(tmp_path / "tiny.pt", "float32"), tiny_corpus.wild)
    assert set(report) <= set(SETS)  # a set without held-out stills is left out, not scored on nothing
    assert sum(entry["faces"] for entry in report.values()) == load_wild(tiny_corpus.wild).held_out.sum()


def test_a_section_path_the_user_typed_must_be_there(tmp_path, run_evaluate):
    """The default folders of ../shared may be missing (their sections are skipped); a typed path that is not there
    is a typo, not a wish to skip."""
    missing = run_evaluate("--real", str(tmp_path / "no-such-folder"), "--limit", "7")
    assert missing.returncode == 2 and missing.stderr == f"error: no such folder: {tmp_path / 'no-such-folder'}\n"
    (tmp_path / "votes.npz").mkdir()
    folder = run_evaluate("--votes", str(tmp_path / "votes.npz"))
    assert folder.returncode == 2 and "is a folder; give a file" in folder.stderr


def test_a_json_report_that_cannot_be_written_is_refused_before_the_work(tmp_path, run_evaluate):
    result = run_evaluate("--json", str(tmp_path), "--data", str(tmp_path / "never-read.npz"))
    assert result.returncode == 2 and "is a folder; give a file name" in result.stderr
