"""Faults in the middle of a run (a user's Ctrl+C, a `kill`, a full disk, a classifier giving NaN): the run ends
with its exit code and one line, and what was written stays whole: every CSV row complete, the video playable to its
last written frame."""

from __future__ import annotations

import csv
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from app.batch.folder import SUMMARY_CSV, folder_job
from app.batch.folder_jobs import is_complete
from app.batch.video import VideoJob, process
from app.engine.pipeline import Pipeline
from app.errors import AppError
from app.output.csv_writer import UNCLASSIFIED, CsvWriter
from tests.app.cli_runner import call_app
from tests.app.test_cli import REPO, assert_one_line_error
from tests.conftest import SAMPLE_CLIP, count_frames, read_frames, write_clip

EXIT_ERROR, EXIT_INTERRUPTED, EXIT_TERMINATED = 1, 130, 143
LONG_CLIP_REPEATS = 5  # the 2.4 s sample played 5 times: a run long enough to be stopped in the middle
ROWS_BEFORE_STOP = 10  # the stop comes once this many frames are in the CSV
RUN_TIMEOUT_S = 120
FILE_SIZE_LIMIT = 8 * 1024  # bytes: the "disk" fills after some tens of frames' rows


def start_app(*args: str | Path, limit_file_size: int | None = None) -> subprocess.Popen[str]:
    """The app as a user starts it, in its own process; with `limit_file_size` every file it writes is capped
    (RLIMIT_FSIZE), so writing past that fails as writing to a full disk does."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("EMOSMOOTH_DEBUG", None)

    def cap_files() -> None:
        if limit_file_size is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_size, limit_file_size))

    return subprocess.Popen(
        [sys.executable, "-m", "app", *map(str, args)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=cap_files,
    )


def finished(run: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    stdout, stderr = run.communicate(timeout=RUN_TIMEOUT_S)
    return subprocess.CompletedProcess(run.args, run.returncode, stdout, stderr)


def data_rows(path: Path) -> int:
    try:
        return max(0, path.read_bytes().count(b"\n") - 1)
    except FileNotFoundError:
        return 0


def whole_rows(path: Path) -> list[list[str]]:
    """The CSV's data rows, after checking that the file ends at a row's end and every row has every column."""
    text = path.read_text()
    assert text.endswith("\n")
    header, *rows = list(csv.reader(text.splitlines()))
    assert all(len(row) == len(header) for row in rows)
    return rows


def frames_in(rows: list[list[str]]) -> int:
    return len({row[0] for row in rows})


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_clip(tmp_path_factory.mktemp("clips") / "long.mp4", read_frames(SAMPLE_CLIP) * LONG_CLIP_REPEATS)


# Each command stopped once and each signal sent twice: one handler serves both signals in every command, and each
# run loads torch on the same 2 cores.
STOPS = {
    "video-SIGINT": ("video", signal.SIGINT),
    "live-SIGTERM": ("live", signal.SIGTERM),
    "folder-SIGTERM": ("folder", signal.SIGTERM),
    "folder-workers-SIGINT": ("folder-workers", signal.SIGINT),
}
FOLDER_VIDEO = "a_long.mp4"  # the first of the folder's videos: the stop comes while it is processed
# Per folder run: the long videos processed when the stop comes, then one that must not start, and the options.
FOLDERS = {
    "folder-SIGTERM": ((FOLDER_VIDEO,), "b.mp4", ()),
    "folder-workers-SIGINT": ((FOLDER_VIDEO, "b_long.mp4"), "c.mp4", ("--workers", "2")),
}


@pytest.fixture(scope="module")
def stopped_runs(
    long_clip: Path, weights_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, tuple[subprocess.CompletedProcess[str], Path, Path]]]:
    """The runs, started together (they wait for torch to load in parallel), each stopped by its signal once
    its CSV holds some frames: (result, csv, video) per run."""
    folder = tmp_path_factory.mktemp("stopped")
    started = {}
    for name, (command, _) in STOPS.items():
        csv_path, video = folder / f"{name}.csv", folder / f"{name}.mp4"
        if command == "video":
            args = ("video", long_clip, "--csv", csv_path, "--video", video, "--smoother", "hmm")
        elif command.startswith("folder"):
            videos = folder / name
            videos.mkdir()
            processed, not_started, options = FOLDERS[name]
            for video_name in processed:
                shutil.copy(long_clip, videos / video_name)
            shutil.copy(SAMPLE_CLIP, videos / not_started)
            job = folder_job(videos / FOLDER_VIDEO, VideoJob(path=Path(), csv=Path()))
            assert job.video is not None
            csv_path, video = job.csv, job.video
            args = ("video", videos, "--smoother", "hmm", *options)
        else:
            args = ("live", "--source", long_clip, "--loop", "--headless", "--csv", csv_path, "--record", video)
        started[name] = (start_app(*args, "--weights", weights_path), csv_path, video)
    deadline = time.monotonic() + RUN_TIMEOUT_S
    waiting = set(started)
    while waiting and time.monotonic() < deadline:
        for name in list(waiting):
            process_, csv_path, _ = started[name]
            if data_rows(csv_path) >= ROWS_BEFORE_STOP or process_.poll() is not None:
                process_.send_signal(STOPS[name][1])
                waiting.discard(name)
        time.sleep(0.05)
    results = {}
    for name, (process_, csv_path, video) in started.items():
        results[name] = (finished(process_), csv_path, video)
    yield results


@pytest.mark.parametrize("name", list(STOPS))
def test_a_stop_signal_ends_the_run_with_its_code_and_whole_outputs(
    name: str, stopped_runs: dict[str, tuple[subprocess.CompletedProcess[str], Path, Path]]
) -> None:
    result, csv_path, video = stopped_runs[name]
    command, signum = STOPS[name]
    assert result.returncode == (EXIT_INTERRUPTED if signum == signal.SIGINT else EXIT_TERMINATED), result.stderr
    assert_one_line_error(result, "interrupted" if signum == signal.SIGINT else "terminated")
    rows = whole_rows(csv_path)
    assert frames_in(rows) >= ROWS_BEFORE_STOP
    capture = cv2.VideoCapture(str(video))
    assert capture.isOpened()  # the MP4 was closed with its index: it plays
    decoded = count_frames(video)
    assert decoded == int(capture.get(cv2.CAP_PROP_FRAME_COUNT))  # to its last written frame
    if command != "live":  # a frame's rows are written just before its picture
        assert decoded in (frames_in(rows), frames_in(rows) - 1)


@pytest.mark.parametrize("name", list(FOLDERS))
def test_a_stopped_folder_sums_up_its_complete_videos_and_leaves_the_cut_ones_to_resume(
    name: str, stopped_runs: dict[str, tuple[subprocess.CompletedProcess[str], Path, Path]], weights_path: Path
) -> None:
    result, csv_path, _ = stopped_runs[name]
    assert_one_line_error(result, "complete videos are in")
    assert f" {FOLDER_VIDEO}: " in result.stderr and "frames were written to" in result.stderr  # each cut one named
    assert "before it started" not in result.stderr  # a queued video is not a cut one
    folder = csv_path.parent
    processed, not_started, _ = FOLDERS[name]
    assert (folder / SUMMARY_CSV).read_text().count("\n") == 1  # the header: no video was complete
    assert not (folder / not_started).with_suffix(".csv").exists()  # the stop ends the folder: no video starts
    for video in processed:  # the first had its rows when the stop came; another worker's may be at its start
        cut = folder_job(folder / video, VideoJob(path=Path(), csv=Path(), smoother="hmm"))
        assert cut.video is not None
        if video == FOLDER_VIDEO:
            assert frames_in(whole_rows(cut.csv)) >= ROWS_BEFORE_STOP and count_frames(cut.video) > 0
        elif cut.csv.exists():  # the other worker may have been stopped before it wrote anything
            whole_rows(cut.csv)
        assert not is_complete(cut, str(weights_path))  # so --resume redoes it (tests/app/batch/test_folder.py)


@pytest.mark.parametrize("command", ["video", "live"])
def test_a_full_disk_is_one_line_and_keeps_every_whole_frame(
    command: str, long_clip: Path, weights_path: Path, tmp_path: Path
) -> None:
    csv_path = tmp_path / "o.csv"
    if command == "video":
        args = ("video", long_clip, "--csv", csv_path, "--smoother", "hmm")
    else:
        args = ("live", "--source", long_clip, "--headless", "--csv", csv_path, "--out-dir", tmp_path)
    result = finished(start_app(*args, "--weights", weights_path, limit_file_size=FILE_SIZE_LIMIT))
    assert result.returncode == EXIT_ERROR
    assert_one_line_error(result, f"cannot write {csv_path}", "frames were written")
    rows = whole_rows(csv_path)
    assert 0 < frames_in(rows) < LONG_CLIP_REPEATS * 72
    assert f"{frames_in(rows)} frames were written" in result.stderr
    assert csv_path.stat().st_size <= FILE_SIZE_LIMIT


def test_a_write_that_fails_midway_leaves_the_file_at_its_last_whole_frame_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    writer = CsvWriter(path, ("frame", "label"))
    writer.write_rows([{"frame": "0", "label": "happy"}])
    with path.open("rb") as file:
        whole = file.read()

    class FullDisk:
        """A file that takes a few bytes, then fails as a full disk does."""

        def __init__(self, real: object) -> None:
            self.real = real

        def write(self, data: memoryview) -> int:
            if len(data) > 3:
                return self.real.write(data[:3])
            raise OSError(28, "No space left on device")

        def __getattr__(self, name: str) -> object:
            return getattr(self.real, name)

    writer._file = FullDisk(writer._file)
    with pytest.raises(AppError, match="No space left on device; 1 frame was written"):
        writer.write_rows([{"frame": "1", "label": "sad"}, {"frame": "1", "label": "fear"}])
    writer._file = writer._file.real  # room again: a later, shorter frame would fit, but the file stays as reported
    with pytest.raises(AppError, match="No space left on device; 1 frame was written"):
        writer.write_rows([{"frame": "2", "label": "sad"}])
    writer.close()
    assert path.read_bytes() == whole
    assert writer.frames_written == 1


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full, a file that is always full")
@pytest.mark.parametrize("output", ["--csv", "--jsonl"])
def test_an_output_on_a_full_disk_from_its_first_line_is_one_line_saying_so(output: str, tmp_path: Path) -> None:
    """The CSV's header and the JSONL's first line fail as later frames do; closing the file does not fail again
    with a second, raw error."""
    result = call_app(
        "live", "--source", SAMPLE_CLIP, "--headless", "--max-frames", "3", output, "/dev/full", "--out-dir", tmp_path
    )
    assert result.returncode == EXIT_ERROR
    assert (
        result.stderr.splitlines()[-1]
        == "error: cannot write /dev/full: No space left on device; 0 frames were written"
    )
    assert "unexpected" not in result.stderr


class NanOnOddFrames:
    """A classifier that gives NaN on every other call, as broken weights or a broken input would."""

    def __init__(self, classifier: object) -> None:
        self.classifier = classifier
        self.calls = 0

    def predict(self, faces: object) -> np.ndarray:
        self.calls += 1
        probs = self.classifier.predict(faces)
        return np.full_like(probs, np.nan) if self.calls % 2 == 0 else probs


def test_a_face_the_classifier_gives_nan_for_is_one_row_marked_unclassified(
    classifier: object, sample_frames: list[np.ndarray], tmp_path: Path
) -> None:
    pipeline = Pipeline(NanOnOddFrames(classifier), "hmm")
    frames = [(index, index / 30, frame) for index, frame in enumerate(sample_frames[:20])]
    job = VideoJob(path=SAMPLE_CLIP, csv=tmp_path / "o.csv", smoother="hmm")
    written = process(pipeline.run(frames), job, 30.0, (640, 360))
    assert written.frames == 20
    assert written.unclassified == 10
    with job.csv.open(newline="") as file:
        rows = list(csv.DictReader(file))
    unclassified = [row for row in rows if row["label"] == UNCLASSIFIED]
    assert [row["frame"] for row in unclassified] == [str(index) for index in range(1, 20, 2)]
    assert all(row["p_happy"] == "nan" and row["x"] for row in unclassified)
    assert all(row["track"] == "" for row in unclassified)  # never smoothed
    predicted = [row for row in rows if row["observed"] == "0"]  # its track bridges the frame, predicted
    assert [row["frame"] for row in predicted] == [row["frame"] for row in unclassified]
    assert all(row["track"] == "0" and row["smoothed_label"] for row in predicted)
    seen = [row for row in rows if row["observed"] == "1"]
    assert [row["frame"] for row in seen] == [str(index) for index in range(0, 20, 2)]
