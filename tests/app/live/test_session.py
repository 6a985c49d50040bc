"""The live loop without a window: newest frames only, real timestamps, keys, and the files it writes instead."""

from __future__ import annotations

import csv
import os
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import pytest

import smoothing
import smoothing.smoothers.hmm
from app.engine.capture import CapturedFrame, LatestFrameCapture
from app.engine.pipeline import Pipeline
from app.engine.sources import VideoFileSource, camera_may_exist
from app.errors import EXIT_PARTIAL, AppError
from app.live.analysis import Analysed
from app.live.session import LIVE_COLUMNS, SMOOTHER_KEYS, LiveSession, typed_key
from app.output.csv_writer import SMOOTHED_PROB_COLUMNS
from app.output.jsonl import JsonlWriter
from smoothing.labels import CLASSES
from tests.app.cli_runner import call_app
from tests.app.test_cli import assert_one_line_error
from tests.conftest import SAMPLE_CLIP, count_frames

CLIP_FRAMES = 72
PROB_SUM_TOLERANCE = 1e-4
CAMERA_PERIOD_S = 1 / 30  # the sample clip, paced as a camera
ANALYSIS_S = 0.1  # a classifier this slow analyses one frame in three


class HappyClassifier:
    """Stands in for the CNN: instant, so that the loop keeps up with a paced clip."""

    def predict(self, faces: Sequence[np.ndarray]) -> np.ndarray:
        probs = np.full((len(faces), len(CLASSES)), 0.01)
        probs[:, CLASSES.index("happy")] = 0.94
        return probs


class SlowClassifier(HappyClassifier):
    """Takes ANALYSIS_S a frame, as a busy machine's CNN would: analysis falls far behind a 30 fps camera."""

    def predict(self, faces: Sequence[np.ndarray]) -> np.ndarray:
        time.sleep(ANALYSIS_S)
        return super().predict(faces)


class TimedSession(LiveSession):
    """Notes when each frame is shown, on the capture's clock."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.shown_at: list[tuple[int, float, float]] = []  # (frame, captured at, shown at)

    def show(self, captured: CapturedFrame) -> np.ndarray:
        drawn = super().show(captured)
        self.shown_at.append((captured.index, captured.t, self.capture.now()))
        return drawn


def session(
    tmp_path: Path,
    paced: bool,
    csv_path: Path | None = None,
    record_path: Path | None = None,
    classifier: HappyClassifier | None = None,
) -> TimedSession:
    capture = LatestFrameCapture(VideoFileSource(SAMPLE_CLIP), paced=paced)
    pipeline = Pipeline(classifier or HappyClassifier(), "ema")
    return TimedSession(pipeline, capture, 30.0, tmp_path, csv_path, record_path, window=False)


def analyse_and_show(live: LiveSession, captured: CapturedFrame) -> np.ndarray:
    """The loop's work for one frame, without its threads: the frame shown, then its analysis taken."""
    drawn = live.show(captured)
    live.take(Analysed(live.pipeline.process(captured.index, captured.t, captured.frame), 0.0))
    return drawn


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


def test_headless_run_writes_rows_of_every_frame_and_a_real_time_video(tmp_path: Path) -> None:
    live = session(tmp_path, paced=True, csv_path=tmp_path / "l.csv", record_path=tmp_path / "l.mp4")
    summary = live.run()
    assert summary.captured == summary.shown == CLIP_FRAMES
    assert summary.processed + summary.dropped == CLIP_FRAMES
    rows = rows_of(tmp_path / "l.csv")
    assert tuple(rows[0]) == LIVE_COLUMNS
    frames = [int(row["frame"]) for row in rows]
    assert frames == list(range(CLIP_FRAMES))  # one face: a row a frame, analysed or not
    assert sum(row["dropped"] == "1" for row in rows) == summary.dropped
    times = [float(row["t"]) for row in rows]
    assert times[-1] == pytest.approx((CLIP_FRAMES - 1) / 30, abs=0.25)  # capture clock, in real time
    for row in rows[1:]:  # the first frame is shown before any analysis: no track yet
        assert row["track"] == "0" and row["smoother"] == "ema" and row["smoothed_label"] == "happy"
        assert abs(sum(float(row[c]) for c in SMOOTHED_PROB_COLUMNS) - 1) < PROB_SUM_TOLERANCE
        assert row["observed"] == ("0" if row["dropped"] == "1" else "1")
    assert count_frames(tmp_path / "l.mp4") == CLIP_FRAMES  # every captured frame, so the video keeps real time


def test_a_slow_classifier_leaves_the_view_and_its_recording_at_the_camera_s_rate(tmp_path: Path) -> None:
    live = session(tmp_path, paced=True, csv_path=tmp_path / "l.csv", record_path=tmp_path / "l.mp4",
                   classifier=SlowClassifier())  # fmt: skip
    summary = live.run()
    assert summary.processed <= CLIP_FRAMES * CAMERA_PERIOD_S / ANALYSIS_S + 2  # analysis kept at its own pace
    assert summary.shown == summary.captured == CLIP_FRAMES
    assert [frame for frame, _, _ in live.shown_at] == list(range(CLIP_FRAMES))  # each frame once, in order
    lags = np.array([shown - captured for _, captured, shown in live.shown_at])
    assert np.median(lags) < CAMERA_PERIOD_S and np.percentile(lags, 90) < ANALYSIS_S  # never waiting for analysis
    assert count_frames(tmp_path / "l.mp4") == CLIP_FRAMES
    rows = rows_of(tmp_path / "l.csv")
    assert [int(row["frame"]) for row in rows] == list(range(CLIP_FRAMES))
    first_seen = min(int(row["frame"]) for row in rows if row["observed"] == "1")
    assert all(row["smoothed_label"] == "happy" for row in rows[first_seen:])  # a belief for every frame after
    assert sum(row["dropped"] == "1" for row in rows) == summary.dropped >= CLIP_FRAMES / 2


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
    analyse_and_show(live, CapturedFrame(41, 1.37, sample_frames[41]))
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


@pytest.mark.parametrize(
    ("code", "key"),
    [(-1, None), (ord("q"), ord("q")), (27, 27), (0x100000 | ord("s"), ord("s")),  # GTK with NumLock on
     (0x20000 | ord("Q"), ord("Q")),  # Caps Lock
     (0xFF51, None), (0xFF52, None), (0xFF53, None), (0xFFBE, None)],  # Left, Up, Right, F1: not q, r, s
)  # fmt: skip
def test_only_keys_that_type_a_character_act(code: int, key: int | None) -> None:
    assert typed_key(code) == key


def test_screenshots_never_replace_a_file_and_each_press_keeps_its_own(
    tmp_path: Path, sample_frames: list[np.ndarray]
) -> None:
    live = session(tmp_path, paced=False)
    analyse_and_show(live, CapturedFrame(41, 1.37, sample_frames[41]))
    (tmp_path / "screenshot_000041.png").write_text("an earlier session's")
    live.handle_key(ord(" "))  # paused: the same frame each time
    for _ in range(2):
        live.handle_key(ord("s"))
    assert live.screenshots == [tmp_path / "screenshot_000041_2.png", tmp_path / "screenshot_000041_3.png"]
    assert (tmp_path / "screenshot_000041.png").read_text() == "an earlier session's"
    live.capture.stop()


def test_a_screenshot_that_cannot_be_written_is_one_line_and_the_view_goes_on(
    tmp_path: Path, sample_frames: list[np.ndarray], capsys: pytest.CaptureFixture
) -> None:
    live = session(tmp_path, paced=False)
    live.out_dir = tmp_path / "a file"
    live.out_dir.write_text("")
    analyse_and_show(live, CapturedFrame(41, 1.37, sample_frames[41]))
    assert live.handle_key(ord("s")) and live.screenshots == []
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"warning: cannot write screenshot {live.out_dir / 'screenshot_000041.png'}: ")
    live.capture.stop()


@pytest.mark.parametrize(
    ("rect", "size"),
    [((0, 0, 1280, 720), (1280, 720)), ((0, 0, 200, 150), (320, 240)), ((0, 0, 250, 1000), (320, 1280)),
     ((0, 0, 1238, 200), (1486, 240)), ((0, 0, 0, 0), None)],
)  # fmt: skip
def test_a_small_window_is_drawn_at_its_own_shape_and_a_hidden_one_at_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rect: tuple[int, int, int, int], size: tuple[int, int] | None
) -> None:
    """OpenCV stretches the drawn view into the window: drawn at another shape, the picture would be squashed."""
    live = session(tmp_path, paced=False)
    live.window = True
    monkeypatch.setattr(cv2, "getWindowImageRect", lambda name: rect)
    assert live.window_size() == size
    live.capture.stop()


class ClosedAfter:
    """A pipe whose reader goes away after `lines` lines, as `| head -n 5` does."""

    def __init__(self, lines: int) -> None:
        self.lines = lines
        self.pipe = os.pipe()  # what the writer points at /dev/null once the reader is gone, as it does stdout

    def write(self, text: str) -> None:
        if self.lines == 0:
            raise BrokenPipeError
        self.lines -= 1

    def flush(self) -> None:
        pass

    def fileno(self) -> int:
        return self.pipe[1]

    def close(self) -> None:
        for end in self.pipe:
            os.close(end)


def test_when_the_streams_reader_goes_away_the_csv_ends_at_the_same_whole_frame(
    tmp_path: Path, sample_frames: list[np.ndarray]
) -> None:
    """Frames the loop still takes after the failure (its last batch, the finally) must not reach the CSV past a
    gap: it ends where the stream did, and the error's count is both files'."""
    live = session(tmp_path, paced=False, csv_path=tmp_path / "l.csv")
    reader = ClosedAfter(3)
    live.jsonl = JsonlWriter(reader, "stdout", owned=False)
    for index in range(6):
        try:
            analyse_and_show(live, CapturedFrame(index, index / 30, sample_frames[index]))
        except AppError as error:
            assert str(error) == "the program reading stdout closed it; 3 frames were written"
    live.close()
    live.capture.stop()
    reader.close()
    assert [int(row["frame"]) for row in rows_of(tmp_path / "l.csv")] == [0, 1, 2]


def test_a_window_its_window_manager_closed_counts_as_closed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Qt raises on the property query once the window manager has closed the window (its close button, Alt+F4)."""

    def gone(name: str, prop: int) -> float:
        raise cv2.error("NULL guiReceiver (please create a window)")

    live = session(tmp_path, paced=False)
    monkeypatch.setattr(cv2, "waitKeyEx", lambda delay: -1)
    monkeypatch.setattr(cv2, "getWindowProperty", gone)
    assert not live._window_open()
    live.capture.stop()


def test_a_smoother_whose_file_is_missing_is_not_switched_to_and_the_view_goes_on(
    tmp_path: Path, sample_frames: list[np.ndarray], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    live = session(tmp_path, paced=False)
    monkeypatch.setattr(smoothing.smoothers.hmm, "DEFAULT_HMM_PARAMS", tmp_path / "absent.npz")
    assert live.handle_key(ord("5"))  # hmm
    assert live.smoother == "ema"
    assert "cannot switch to hmm: HMM parameters not found" in capsys.readouterr().err
    analyse_and_show(live, CapturedFrame(41, 1.37, sample_frames[41]))
    live.capture.stop()


def test_several_faces_get_their_own_tracks_and_panels(tmp_path: Path, sample_frames: list[np.ndarray]) -> None:
    live = session(tmp_path, paced=False)
    for index in (10, 11, 12):
        frame = sample_frames[index]
        analyse_and_show(live, CapturedFrame(index, index / 30, np.hstack([frame, frame])))
    assert sorted(track.id for track in live.pipeline.tracker.tracks) == [0, 1]
    assert sorted(live.view.trails.tracks) == [0, 1]
    live.capture.stop()


def test_demo_without_camera_or_display_plays_the_sample_as_a_camera_into_files(
    tmp_path: Path, weights_path: Path
) -> None:
    result = call_app("demo", "--headless", "--weights", weights_path, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("no camera found; playing the bundled sample clip") and "--source FILE" in lines[0]
    video, table = Path("out", "live_annotated.mp4"), Path("out", "live.csv")
    assert lines[1] == f"no window (--headless); writing {video} and {table} instead"
    pattern = r"(\d+) frames captured in [\d.]+ s, (\d+) shown, (\d+) processed \([\d.]+ fps\), (\d+) dropped"
    match = re.match(pattern, lines[2])
    assert match, lines[2]
    captured, shown, processed, dropped = map(int, match.groups())
    assert captured == shown == CLIP_FRAMES and processed + dropped == captured
    assert {int(row["frame"]) for row in rows_of(tmp_path / "out" / "live.csv")} == set(range(CLIP_FRAMES))
    assert count_frames(tmp_path / "out" / "live_annotated.mp4") == CLIP_FRAMES


@pytest.mark.skipif(camera_may_exist(0) and sys.platform.startswith("linux"), reason="this machine has a camera 0")
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="camera absence is only certain on Linux")
def test_live_without_camera_says_so_and_suggests_a_file(tmp_path: Path) -> None:
    assert_one_line_error(call_app("live", "--headless", cwd=tmp_path), "no camera 0", "--source FILE")


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
    assert_one_line_error(call_app("live", "--headless", *args, cwd=tmp_path), *words)


def test_a_recording_name_no_player_reads_is_refused_before_the_last_session_s_files_are_replaced(
    tmp_path: Path,
) -> None:
    last_session = tmp_path / "out" / "live.csv"
    last_session.parent.mkdir()
    last_session.write_text("frame,t\n0,0.0\n")
    result = call_app("live", "--headless", "--source", SAMPLE_CLIP, "--record-bare", "b.gif", cwd=tmp_path)
    assert_one_line_error(result, "b.gif", "must end in .mp4")
    assert result.returncode == 2 and "writing" not in result.stdout
    assert last_session.read_text() == "frame,t\n0,0.0\n"


def test_a_stream_that_stops_keeps_what_was_processed_and_exits_partial(tmp_path: Path, weights_path: Path) -> None:
    url = SAMPLE_CLIP.resolve().as_uri()  # read as a live stream: its end is a stop
    result = call_app("live", "--headless", "--source", url, "--weights", weights_path, cwd=tmp_path)
    assert result.returncode == EXIT_PARTIAL
    assert_one_line_error(result, f"stream {url} stopped delivering frames after {CLIP_FRAMES}", "written")
    with (tmp_path / "out" / "live.csv").open(newline="") as file:
        assert len(list(csv.DictReader(file))) >= 1
