"""The live loop without a window: newest frames only, real timestamps, keys, and the files it writes instead."""

from __future__ import annotations

import csv
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import pytest

import smoothing
import smoothing.hmm
from app.capture import CapturedFrame, LatestFrameCapture
from app.csv_output import SMOOTHED_PROB_COLUMNS
from app.errors import EXIT_PARTIAL
from app.live import LIVE_COLUMNS, SMOOTHER_KEYS, LiveSession
from app.pipeline import Pipeline
from app.sources import VideoFileSource, camera_may_exist
from smoothing.labels import CLASSES
from tests.app.test_cli import assert_one_line_error, run_app
from tests.conftest import SAMPLE_CLIP, count_frames

CLIP_FRAMES = 72
PROB_SUM_TOLERANCE = 1e-4


class HappyClassifier:
    """Stands in for the CNN: instant, so that the loop keeps up with a paced clip."""

    def predict(self, faces: Sequence[np.ndarray]) -> np.ndarray:
        probs = np.full((len(faces), len(CLASSES)), 0.01)
        probs[:, CLASSES.index("happy")] = 0.94
        return probs


def session(tmp_path: Path, paced: bool, csv_path: Path | None = None, record_path: Path | None = None) -> LiveSession:
    capture = LatestFrameCapture(VideoFileSource(SAMPLE_CLIP), paced=paced)
    return LiveSession(Pipeline(HappyClassifier(), "ema"), capture, 30.0, tmp_path, csv_path, record_path, window=False)


def test_headless_run_writes_rows_of_processed_frames_and_a_real_time_video(tmp_path: Path) -> None:
    live = session(tmp_path, paced=True, csv_path=tmp_path / "l.csv", record_path=tmp_path / "l.mp4")
    summary = live.run()
    assert summary.captured == CLIP_FRAMES
    assert summary.processed + summary.dropped == CLIP_FRAMES
    with (tmp_path / "l.csv").open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert tuple(rows[0]) == LIVE_COLUMNS
    frames = [int(row["frame"]) for row in rows]
    assert len(frames) == summary.processed and frames == sorted(set(frames))
    times = [float(row["t"]) for row in rows]
    assert times[-1] == pytest.approx((CLIP_FRAMES - 1) / 30, abs=0.25)  # capture clock, in real time
    for row in rows:
        assert row["track"] == "0" and row["smoother"] == "ema" and row["smoothed_label"] == "happy"
        assert abs(sum(float(row[c]) for c in SMOOTHED_PROB_COLUMNS) - 1) < PROB_SUM_TOLERANCE
    # a dropped frame repeats the last shown one, so the video lasts as long as the capture did
    assert count_frames(tmp_path / "l.mp4") == frames[-1] + 1


def test_the_bare_recording_is_the_picture_with_boxes_and_labels_at_the_source_size(tmp_path: Path) -> None:
    live = session(tmp_path, paced=False, record_path=tmp_path / "view.mp4")
    live.bare_record_path = tmp_path / "bare.mp4"
    live.run()
    view, bare = cv2.VideoCapture(str(tmp_path / "view.mp4")), cv2.VideoCapture(str(tmp_path / "bare.mp4"))
    source = VideoFileSource(SAMPLE_CLIP)
    try:
        assert (int(bare.get(cv2.CAP_PROP_FRAME_WIDTH)), int(bare.get(cv2.CAP_PROP_FRAME_HEIGHT))) == source.size
        view_size = (int(view.get(cv2.CAP_PROP_FRAME_WIDTH)), int(view.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        assert view_size == live.view.default_size(source.size)
        assert count_frames(tmp_path / "bare.mp4") == count_frames(tmp_path / "view.mp4")
    finally:
        view.release(), bare.release(), source.close()


def test_a_loop_too_slow_for_the_source_drops_frames_and_says_how_many(tmp_path: Path) -> None:
    live = session(tmp_path, paced=False)  # unpaced: the file is read far faster than frames are processed
    summary = live.run()
    assert summary.captured == CLIP_FRAMES
    assert summary.dropped > 0 and summary.processed + summary.dropped == CLIP_FRAMES


def test_keys_switch_smoother_raw_only_pause_help_screenshot_and_quit(
    tmp_path: Path, sample_frames: list[np.ndarray]
) -> None:
    live = session(tmp_path, paced=False)
    live.step(CapturedFrame(41, 1.37, sample_frames[41]))
    assert SMOOTHER_KEYS[ord("1")] == smoothing.available()[0]
    assert live.handle_key(ord("5"))
    assert live.smoother == smoothing.available()[4]
    assert all(type(track.smoother).name == live.smoother for track in live.pipeline.tracker.tracks)
    live.handle_key(ord("r"))
    assert live.raw_only and live.status().raw_only
    live.handle_key(ord(" "))
    assert live.paused and live.status().paused
    without_help = live.shown.copy()
    live.handle_key(ord("h"))
    assert live.show_help and not np.array_equal(live.shown, without_help)  # redrawn at once, even when paused
    live.handle_key(ord("s"))
    (shot,) = live.screenshots
    assert shot == tmp_path / "screenshot_000041.png"
    height, width = sample_frames[41].shape[:2]
    assert cv2.imread(str(shot)).shape == (*live.view.default_size((width, height))[::-1], 3)  # the panel too
    assert not live.handle_key(ord("q"))
    assert not live.handle_key(27)
    live.capture.stop()


def test_a_smoother_whose_file_is_missing_is_not_switched_to_and_the_view_goes_on(
    tmp_path: Path, sample_frames: list[np.ndarray], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    live = session(tmp_path, paced=False)
    monkeypatch.setattr(smoothing.hmm, "DEFAULT_HMM_PARAMS", tmp_path / "absent.npz")
    assert live.handle_key(ord("5"))  # hmm
    assert live.smoother == "ema"
    assert "cannot switch to hmm: HMM parameters not found" in capsys.readouterr().err
    live.step(CapturedFrame(41, 1.37, sample_frames[41]))
    live.capture.stop()


def test_several_faces_get_their_own_tracks_and_panels(tmp_path: Path, sample_frames: list[np.ndarray]) -> None:
    live = session(tmp_path, paced=False)
    for index in (10, 11, 12):
        frame = sample_frames[index]
        live.step(CapturedFrame(index, index / 30, np.hstack([frame, frame])))
    assert sorted(track.id for track in live.pipeline.tracker.tracks) == [0, 1]
    assert sorted(live.view.trails.tracks) == [0, 1]
    live.capture.stop()


def test_demo_without_camera_or_display_plays_the_sample_as_a_camera_into_files(
    tmp_path: Path, weights_path: Path
) -> None:
    result = run_app("demo", "--headless", "--weights", weights_path, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("no camera found; playing the bundled sample clip") and "--source FILE" in lines[0]
    video, table = Path("out", "live_annotated.mp4"), Path("out", "live.csv")
    assert lines[1] == f"no window (--headless); writing {video} and {table} instead"
    match = re.match(r"(\d+) frames captured in [\d.]+ s, (\d+) processed \([\d.]+ fps\), (\d+) dropped", lines[2])
    assert match, lines[2]
    captured, processed, dropped = map(int, match.groups())
    assert captured == CLIP_FRAMES and processed + dropped == captured
    with (tmp_path / "out" / "live.csv").open(newline="") as file:
        assert len(list(csv.DictReader(file))) == processed
    assert count_frames(tmp_path / "out" / "live_annotated.mp4") >= processed


@pytest.mark.skipif(camera_may_exist(0) and sys.platform.startswith("linux"), reason="this machine has a camera 0")
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="camera absence is only certain on Linux")
def test_live_without_camera_says_so_and_suggests_a_file(tmp_path: Path) -> None:
    assert_one_line_error(run_app("live", "--headless", cwd=tmp_path), "no camera 0", "--source FILE")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--source", "missing.mp4"), ("no such file",)),
        (("--source", str(SAMPLE_CLIP), "--smoother", "kalman"), ("unknown smoother 'kalman'", "available:")),
        (("--source", str(SAMPLE_CLIP), "--width", "320"), ("--width and --height",)),
    ],
    ids=["missing-file", "unknown-smoother", "width-alone"],
)
def test_live_bad_input_is_one_line(tmp_path: Path, args: tuple[str, ...], words: tuple[str, ...]) -> None:
    assert_one_line_error(run_app("live", "--headless", *args, cwd=tmp_path), *words)


def test_a_stream_that_stops_keeps_what_was_processed_and_exits_partial(tmp_path: Path, weights_path: Path) -> None:
    url = SAMPLE_CLIP.resolve().as_uri()  # read as a live stream: its end is a stop
    result = run_app("live", "--headless", "--source", url, "--weights", weights_path, cwd=tmp_path)
    assert result.returncode == EXIT_PARTIAL
    assert_one_line_error(result, f"stream {url} stopped delivering frames after {CLIP_FRAMES}", "written")
    with (tmp_path / "out" / "live.csv").open(newline="") as file:
        assert len(list(csv.DictReader(file))) >= 1
