"""Video jobs fail before the first frame when a smoother cannot be built, and only the writer's failures are
reported as "cannot write"."""

from __future__ import annotations

from pathlib import Path

import pytest

import smoothing.smoothers.hmm
from app.batch.video import VideoJob, check_smoother, run_file
from app.errors import AppError
from tests.conftest import SAMPLE_CLIP


def test_a_missing_smoother_file_is_named_before_any_output_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "hmm.npz"
    monkeypatch.setattr(smoothing.smoothers.hmm, "DEFAULT_HMM_PARAMS", missing)
    csv = tmp_path / "out" / "o.csv"
    with pytest.raises(AppError) as raised:
        run_file(VideoJob(path=SAMPLE_CLIP, csv=csv, smoother="hmm"), None, show_progress=False)
    assert str(missing) in str(raised.value) and "cannot write" not in str(raised.value)
    assert not csv.exists()


def test_unknown_smoothers_are_refused_and_no_smoother_is_fine() -> None:
    check_smoother(None)
    check_smoother("hmm", offline=True)
    with pytest.raises(AppError, match="unknown smoother 'kalman'; available: none, ema"):
        check_smoother("kalman")
