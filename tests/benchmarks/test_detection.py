"""`python -m benchmarks detection`: faces found on real clips upright and rotated, and none on the no-face clip."""

from __future__ import annotations

import pytest

from benchmarks import detection
from smoothing.fitting.real_sequences import DEFAULT_REAL_DIR


def test_quick_run_reports_every_rotation_and_its_target() -> None:
    if not DEFAULT_REAL_DIR.is_dir():
        pytest.skip(f"real clips {DEFAULT_REAL_DIR} not present (only on the development machines)")
    report = detection.run(quick=True)
    rows = report.data["rotations"]
    assert [row["rotation_deg"] for row in rows] == list(detection.ROTATIONS_DEG)
    assert all(row["clips"] == detection.QUICK_CLIPS and 0 <= row["found_share"] <= 1 for row in rows)
    assert rows[0]["found_share"] > 0.9  # upright faces of these clips are found on (nearly) every frame
    assert any("rotated +30" in target["target"] for target in report.data["targets"])
    assert "| +30 deg |" in report.markdown
