"""The latency benchmark's quick run: every clip, stage, smoother and gap is reported, well-formed; no speed checks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

from benchmarks import latency
from benchmarks.clips import FACE_COUNTS, SYNTHETIC_SIZE, compose_frame, grid_cells
from benchmarks.peer_compare import load_peer
from benchmarks.report import Report, run_metadata, write_report
from benchmarks.smoother_cost import GAP_CONFIGS, GAP_FRAMES, config_name, flatness, gap_times
from benchmarks.stages import END_TO_END, STAGES
from benchmarks.timing import summarize_ms, summarize_us

MIN_FOUND_SHARE = 0.9  # the detector finds at least this share of the faces placed in a synthetic clip


@pytest.fixture(scope="module")
def report() -> Report:
    return latency.run(quick=True)


def test_every_clip_is_measured_the_sample_first(report: Report) -> None:
    clips = report.data["clips"]
    assert "sample" in clips[0]["clip"]
    synthetic = [clip for clip in clips[1:] if tuple(clip["size"]) == SYNTHETIC_SIZE]
    assert [clip["faces_placed"] for clip in synthetic] == list(FACE_COUNTS)
    for clip in clips:
        assert clip["frames_measured"] == clip["frames"] * latency.QUICK.passes


def test_the_synthetic_clips_show_the_detector_their_faces(report: Report) -> None:
    for clip in report.data["clips"]:
        assert clip["mean_faces_found"] >= MIN_FOUND_SHARE * clip["faces_placed"], clip["clip"]


def test_every_stage_has_ordered_percentiles_and_they_add_up_to_end_to_end(report: Report) -> None:
    for clip in report.data["clips"]:
        stages = clip["stages"]
        assert set(stages) == {*STAGES, END_TO_END}
        for summary in stages.values():
            assert 0 <= summary["p50_ms"] <= summary["p95_ms"] <= summary["p99_ms"]
            assert summary["n"] == clip["frames_measured"]
        total = sum(stages[stage]["mean_ms"] for stage in STAGES)
        assert total == pytest.approx(stages[END_TO_END]["mean_ms"], rel=1e-9)
        assert stages[END_TO_END]["fps_mean"] == pytest.approx(1000.0 / stages[END_TO_END]["mean_ms"])
        split = clip["detect_full_search"]["n"] + clip["detect_region_search"]["n"]
        assert split == clip["frames_measured"] and clip["detect_full_search"]["n"] > 0
        assert clip["stream_first_frame"]["n"] == latency.QUICK.passes  # each pass is a fresh stream


def test_the_run_records_its_threads_and_settings(report: Report) -> None:
    threads = report.data["threads"]
    assert threads["torch_threads"] == latency.classifier_threads()
    assert threads["cpu_count"] >= 1 and threads["cv2_threads"] >= 1
    assert report.data["settings"]["passes"] == latency.QUICK.passes
    assert report.data["settings"]["smoother"] == latency.APP_SMOOTHER


def test_every_smoother_has_an_update_cost(report: Report) -> None:
    import smoothing

    updates = report.data["smoother_updates"]
    assert list(updates) == smoothing.available()
    for summary in updates.values():
        assert 0 < summary["p50_us"] <= summary["p95_us"] <= summary["p99_us"]


def test_the_gap_costs_cover_every_configuration_and_gap(report: Report) -> None:
    rows = report.data["gap_costs"]
    for name, gap in GAP_CONFIGS:
        for distinct in (True, False):
            ks = [r["k"] for r in rows if r["config"] == config_name(name, gap) and r["distinct_dt"] == distinct]
            assert ks == list(GAP_FRAMES)
    assert all(row["p50_us"] > 0 for row in rows)


def test_the_peer_row_is_a_ratio_or_a_reason(report: Report) -> None:
    peer = report.data["peer"]
    if peer["available"]:
        assert peer["fps_ratio"] > 0
        assert peer["end_to_end"]["n"] == report.data["clips"][0]["frames_measured"]  # same clip, same passes
        assert "our fps / peer fps" in report.markdown
    else:
        assert peer["reason"] and peer["reason"] in report.markdown


def test_targets_are_reported_with_pass_or_miss(report: Report) -> None:
    targets = report.data["targets"]
    frame_targets = 7  # 1 face: fps, p50, p99, detect p50 and p99; 4 faces: fps and the view's drawing
    assert len(targets) == frame_targets + len(latency.TARGET_UPDATE_US) + len(latency.TIME_AWARE)
    assert all(isinstance(t["pass"], bool) for t in targets)
    assert "### Targets" in report.markdown and "|---|" in report.markdown


def test_the_report_writes_json_markdown_and_two_plots(report: Report, tmp_path: Path) -> None:
    assert set(report.figures) == {"stages", "gap-cost"}
    assert all(isinstance(figure, Figure) for figure in report.figures.values())
    paths = write_report(report, run_metadata(True), tmp_path)
    assert json.loads((tmp_path / "latency.json").read_text())["clips"]
    assert sorted(p.name for p in paths if p.suffix == ".png") == ["latency-gap-cost.png", "latency-stages.png"]


def test_summaries_are_percentiles_of_the_samples() -> None:
    ms = summarize_ms(np.arange(1, 101) * 1_000_000)
    assert ms["p50_ms"] == pytest.approx(50.5) and ms["p99_ms"] == pytest.approx(99.01)
    assert ms["fps_mean"] == pytest.approx(1000 / 50.5) and ms["n"] == 100
    assert summarize_us([2000, 4000])["mean_us"] == pytest.approx(3.0)
    assert summarize_ms([])["p50_ms"] is None


def test_faces_are_laid_out_one_per_cell_never_enlarged() -> None:
    assert grid_cells(1, (640, 480)) == [(0, 0, 640, 480)]
    assert grid_cells(2, (640, 480)) == [(0, 0, 320, 480), (320, 0, 320, 480)]
    assert grid_cells(4, (640, 480)) == [(0, 0, 320, 240), (320, 0, 320, 240), (0, 240, 320, 240), (320, 240, 320, 240)]
    backdrop = np.zeros((480, 640, 3), np.uint8)
    frame = compose_frame(backdrop, [np.full((300, 300, 3), 200, np.uint8)] * 4)
    assert backdrop.max() == 0  # the backdrop is copied, not drawn on
    cell = frame[:240, :320, 0]
    rows, cols = np.nonzero(cell)
    assert (rows.min(), rows.max() + 1, cols.min(), cols.max() + 1) == (0, 240, 40, 280)  # 240x240, centred
    single = compose_frame(backdrop, [np.full((100, 100, 3), 200, np.uint8)])
    assert np.count_nonzero(single[..., 0]) == 100 * 100


def test_gap_streams_repeat_one_dt_or_never() -> None:
    repeated = np.diff(gap_times(4, 50, None))
    assert np.all(repeated == repeated[0])
    jittered = np.diff(gap_times(4, 50, np.random.default_rng(0)))
    assert len(np.unique(jittered)) == len(jittered)
    assert np.allclose(jittered, repeated[0], rtol=0.02)


def test_flatness_is_the_largest_gap_over_one_period() -> None:
    rows = [{"config": "x", "k": k, "distinct_dt": True, "p50_us": 10.0 + k} for k in GAP_FRAMES]
    assert flatness(rows, "x") == pytest.approx((10 + GAP_FRAMES[-1]) / (10 + GAP_FRAMES[0]))
    assert flatness(rows, "missing") is None


def test_quick_mode_never_waits_on_a_download(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from benchmarks import peer

    monkeypatch.setattr(peer, "DEFAULT_CACHE", tmp_path)
    runner, reason = load_peer(allow_fetch=False)
    assert runner is None and "not cached" in reason
