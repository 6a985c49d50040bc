"""Frame sources that misbehave mid-run (issue 13, "nothing lost on faults"): a file whose timestamps repeat or go
backwards keeps every frame with a rising t and says so; a camera or stream that stops ends the run with one line and
finalised outputs, or is reopened with --reconnect; a stream that hangs ends the read instead of blocking."""

from __future__ import annotations

import csv
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from pathlib import Path

import cv2
import numpy as np
import pytest

import app.engine.sources
from app.cli import main
from app.engine.sources import LiveCapture, LoopedFileSource, MonotonicTimes, SourceError, StreamSource, VideoFileSource
from app.errors import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE
from tests.conftest import SAMPLE_CLIP, count_frames

CLIP_FRAMES = 8  # short, so that each run stays well under a second of decoding and processing
CLIP_FPS = 25.0  # a rate MPEG-2 allows
CLIP_SIZE = (320, 180)  # (width, height): small and even, as MPEG-2 needs
HANG_FRAMES = 200  # enough for FFmpeg to finish probing the stream before it hangs (it probes about 5 s of it)
TEST_READ_TIMEOUT_MS = 300  # in place of STREAM_READ_TIMEOUT_MS, so that the hanging stream test is quick
HANG_LIMIT_S = 30.0  # how long the hanging server holds its connection at most; OpenCV's own default read timeout
# A stream silent past its read timeout ends well before HANG_LIMIT_S; this bound leaves room for a slow machine.
HANG_END_BOUND_S = 10.0
# A file:// stream is read as fast as it decodes and the live recording keeps one frame per captured one, so the
# reconnecting test waits about a frame between plays: the clip comes a few times faster than real time, not
# thousands, and the recording stays small.
PACED_RECONNECT_WAIT_S = 0.02


def write_ts(path: Path, frames: int) -> Path:
    """An MPEG-TS clip of the sample's first frames, written by OpenCV's FFmpeg (no ffmpeg binary is needed)."""
    writer = cv2.VideoWriter(str(path), cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*"mpg2"), CLIP_FPS, CLIP_SIZE)
    assert writer.isOpened()
    capture = cv2.VideoCapture(str(SAMPLE_CLIP))
    for _ in range(frames):
        ok, frame = capture.read()
        if not ok:  # past the sample's end: start it again
            capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = capture.read()
        writer.write(cv2.resize(frame, CLIP_SIZE))
    capture.release()
    writer.release()
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A short clip, the same clip twice in a row (a joined transport stream restarts its clock, as joined
    recordings do), and a long clip for the hanging stream."""
    folder = tmp_path_factory.mktemp("clips")
    clip = write_ts(folder / "clip.ts", CLIP_FRAMES)
    joined = folder / "joined.ts"
    joined.write_bytes(clip.read_bytes() * 2)
    return {"clip": clip, "joined": joined, "long": write_ts(folder / "long.ts", HANG_FRAMES)}


def raw_times(path: Path) -> list[float]:
    capture = cv2.VideoCapture(str(path))
    times = []
    while capture.grab():
        times.append(capture.get(cv2.CAP_PROP_POS_MSEC) / 1000)
    capture.release()
    return times


def warning_text(repaired: int, frames: int, path: Path) -> str:
    return (
        f"{repaired} of {frames} frames of {path} had timestamps that repeat or go backwards; "
        "each was placed one frame period after the one before"
    )


def live_args(tmp_path: Path, source: str, weights: Path, *more: str) -> list[str]:
    csv_path, record = tmp_path / "live.csv", tmp_path / "live.mp4"
    return ["live", "--source", source, "--headless", "--csv", str(csv_path), "--record", str(record),
            "--out-dir", str(tmp_path), "--weights", str(weights), *more]  # fmt: skip


def csv_frames(path: Path) -> tuple[list[int], list[float]]:
    """Each frame's index and t (every frame shown has rows, analysed or not), after checking that the file is whole:
    every row has every column and the last one its line end."""
    text = path.read_text()
    assert text.endswith("\n")
    header, *rows = list(csv.reader(text.splitlines()))
    assert rows and all(len(row) == len(header) for row in rows)
    seen = dict.fromkeys((int(row[0]), float(row[1])) for row in rows)  # a frame with several faces has several rows
    return [frame for frame, _ in seen], [t for _, t in seen]


# Timestamps that repeat or go backwards


def test_the_repair_rule_places_each_bad_time_one_period_after_the_one_before() -> None:
    times = MonotonicTimes(fps=10.0)
    given = [float("nan"), 0.1, 0.1, 0.05, 0.4, float("nan"), -1.0, 0.9]  # NaN first, repeat, back, NaN, negative
    assert [times(t) for t in given] == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.9])
    assert times.repaired == 5


def test_a_joined_file_whose_clock_restarts_keeps_every_frame_with_a_rising_t(clips: dict[str, Path]) -> None:
    joined = clips["joined"]
    before = raw_times(joined)
    assert len(before) == 2 * CLIP_FRAMES and before[CLIP_FRAMES] < before[CLIP_FRAMES - 1]  # the premise: it goes back
    source = VideoFileSource(joined)
    items = list(source)
    assert [index for index, _, _ in items] == list(range(2 * CLIP_FRAMES))
    times = [t for _, t, _ in items]
    assert times[:CLIP_FRAMES] == pytest.approx(before[:CLIP_FRAMES])  # good times are the file's own
    assert all(b - a == pytest.approx(1 / CLIP_FPS) for a, b in pairwise(times))
    assert source.repaired_timestamps == CLIP_FRAMES  # every frame after the join was at or below the one before
    assert source.timestamp_warning() == warning_text(CLIP_FRAMES, 2 * CLIP_FRAMES, joined)
    assert not source.ended_early()


def test_a_file_with_good_times_gives_no_warning() -> None:
    source = VideoFileSource(SAMPLE_CLIP)
    sum(1 for _ in source)
    assert source.repaired_timestamps == 0 and source.timestamp_warning() is None


def test_a_looped_joined_file_keeps_rising_times_and_counts_the_repairs_of_every_play(clips: dict[str, Path]) -> None:
    source = LoopedFileSource(clips["joined"])
    plays = 2
    times = [t for _, (_, t, _) in zip(range(plays * 2 * CLIP_FRAMES), source, strict=False)]
    source.close()
    assert all(b > a for a, b in pairwise(times))
    assert source.repaired_timestamps == plays * CLIP_FRAMES
    assert source.timestamp_warning() == warning_text(plays * CLIP_FRAMES, plays * 2 * CLIP_FRAMES, clips["joined"])


def test_the_video_command_keeps_every_frame_of_a_joined_file_with_a_rising_t(
    tmp_path: Path, clips: dict[str, Path], weights_path: Path
) -> None:
    csv_path = tmp_path / "joined.csv"
    assert main(["video", str(clips["joined"]), "--csv", str(csv_path), "--weights", str(weights_path)]) == EXIT_OK
    frames, times = csv_frames(csv_path)
    assert frames == list(range(2 * CLIP_FRAMES))
    assert all(b > a for a, b in pairwise(times))


def test_the_live_command_warns_about_a_file_whose_times_were_repaired(
    tmp_path: Path, clips: dict[str, Path], weights_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(live_args(tmp_path, str(clips["joined"]), weights_path)) == EXIT_OK
    err = capsys.readouterr().err.splitlines()
    assert err == [f"warning: {warning_text(CLIP_FRAMES, 2 * CLIP_FRAMES, clips['joined'])}"]


# A camera or stream that stops, and reconnecting


@pytest.fixture
def no_reconnect_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app.engine.sources, "RECONNECT_WAIT_S", 0.0)


def test_a_stream_that_stops_ends_with_one_line_and_finalised_outputs(
    tmp_path: Path, clips: dict[str, Path], weights_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = clips["clip"].resolve().as_uri()
    assert main(live_args(tmp_path, url, weights_path, "--max-frames", str(4 * CLIP_FRAMES))) == EXIT_PARTIAL
    assert capsys.readouterr().err.splitlines() == [
        f"error: stream {url} stopped delivering frames after {CLIP_FRAMES}; everything before is written"
    ]
    frames, _ = csv_frames(tmp_path / "live.csv")
    assert frames == sorted(set(frames)) and frames[-1] < CLIP_FRAMES
    assert count_frames(tmp_path / "live.mp4") == frames[-1] + 1  # playable: a frame per captured one up to the last


def test_reconnect_goes_on_past_the_end_of_a_stream_with_rising_frames_and_times(
    tmp_path: Path,
    clips: dict[str, Path],
    weights_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(app.engine.sources, "RECONNECT_WAIT_S", PACED_RECONNECT_WAIT_S)
    url = clips["clip"].resolve().as_uri()
    wanted = CLIP_FRAMES + 2  # processing that many frames means capturing past the clip's end
    assert main(live_args(tmp_path, url, weights_path, "--reconnect", "2", "--max-frames", str(wanted))) == EXIT_OK
    err = capsys.readouterr().err.splitlines()
    assert err and set(err) == {f"stream {url} stopped delivering frames; reconnecting (1/2)"}  # each reopen worked
    frames, times = csv_frames(tmp_path / "live.csv")
    with (tmp_path / "live.csv").open(newline="") as file:
        analysed = {row["frame"] for row in csv.DictReader(file) if row["dropped"] == "0"}
    assert len(analysed) == wanted and frames[-1] >= CLIP_FRAMES  # past the clip's end
    assert all(b > a for a, b in pairwise(frames))
    assert all(b >= a for a, b in pairwise(times))


@contextmanager
def http_server(answer: Callable[[BaseHTTPRequestHandler, int], None]) -> Iterator[str]:
    """A local HTTP server whose n-th GET (from 0) is answered by answer(handler, n); yields its base URL."""
    requests = iter(range(1_000_000))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            answer(self, next(requests))

        def log_message(self, *args: object) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def send_ts(handler: BaseHTTPRequestHandler, data: bytes) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "video/mp2t")
    handler.end_headers()
    handler.wfile.write(data)
    handler.wfile.flush()


def test_reconnect_attempts_that_all_fail_end_with_one_line_and_exit_3(
    tmp_path: Path, clips: dict[str, Path], weights_path: Path, capsys: pytest.CaptureFixture[str], no_reconnect_wait
) -> None:
    data = clips["clip"].read_bytes()

    def once(handler: BaseHTTPRequestHandler, number: int) -> None:  # the server goes away after the first viewer
        if number == 0:
            send_ts(handler, data)
        else:
            handler.send_error(404)

    with http_server(once) as base:
        url = f"{base}/clip.ts"
        code = main(live_args(tmp_path, url, weights_path, "--reconnect", "2", "--max-frames", str(4 * CLIP_FRAMES)))
    assert code == EXIT_PARTIAL
    assert capsys.readouterr().err.splitlines() == [
        f"stream {url} stopped delivering frames; reconnecting (1/2)",
        f"stream {url} stopped delivering frames; reconnecting (2/2)",
        f"error: stream {url} stopped delivering frames after {CLIP_FRAMES}; everything before is written",
    ]
    frames, _ = csv_frames(tmp_path / "live.csv")
    assert frames[-1] < CLIP_FRAMES


def test_reconnect_is_refused_for_a_file_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["live", "--source", str(SAMPLE_CLIP), "--reconnect", "1", "--headless"]) == EXIT_USAGE
    assert capsys.readouterr().err.splitlines() == [
        f"error: --reconnect is for a camera or stream; {SAMPLE_CLIP} is a file, which ends on its own "
        "(python -m app live --help lists the options)"
    ]


def test_a_stream_that_hangs_ends_at_the_read_timeout(clips: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app.engine.sources, "STREAM_READ_TIMEOUT_MS", TEST_READ_TIMEOUT_MS)
    data, release = clips["long"].read_bytes(), threading.Event()

    def then_hang(handler: BaseHTTPRequestHandler, _number: int) -> None:  # sends the clip, then neither more nor EOF
        send_ts(handler, data)
        release.wait(HANG_LIMIT_S)

    with http_server(then_hang) as base:
        try:
            start = time.monotonic()
            stream = StreamSource(f"{base}/live.ts")
            frames = sum(1 for _ in stream)
            took = time.monotonic() - start
            stream.close()
        finally:
            release.set()
    assert frames == HANG_FRAMES and stream.ended_early()
    assert took < HANG_END_BOUND_S


class FakeCapture:
    """A stand-in for cv2.VideoCapture that gives its frames, then nothing."""

    def __init__(self, frames: int, size: tuple[int, int]) -> None:
        self.frames = [np.full((size[1], size[0], 3), number, np.uint8) for number in range(frames)]

    def read(self) -> tuple[bool, np.ndarray | None]:
        return (True, self.frames.pop(0)) if self.frames else (False, None)

    def get(self, _prop: int) -> float:
        return 0.0

    def release(self) -> None:
        pass


class ScriptedSource(LiveCapture):
    """A live source whose every open takes the next capture of a script; None there is an open that fails."""

    def __init__(self, script: list[FakeCapture | None], reconnects: int) -> None:
        self.script = script
        super().__init__("camera 9", reconnects)

    def open(self) -> FakeCapture:
        capture = self.script.pop(0) if self.script else None
        if capture is None:
            raise SourceError("cannot open camera 9")
        return capture


def test_a_reconnect_keeps_frame_indexes_and_times_running_and_a_good_read_resets_the_attempts(
    no_reconnect_wait, capsys: pytest.CaptureFixture[str]
) -> None:
    size, other_size = (32, 24), (64, 48)
    source = ScriptedSource([FakeCapture(3, size), None, FakeCapture(2, other_size)], reconnects=2)
    items = list(source)
    assert [index for index, _, _ in items] == list(range(5))
    assert all(b[1] >= a[1] for a, b in pairwise(items))
    assert all(frame.shape[1::-1] == size for _, _, frame in items)  # a source reopened at another size keeps its first
    assert source.ended_early() and source.frames_read == 5
    attempts = [f"camera 9 stopped delivering frames; reconnecting ({n}/2)" for n in (1, 2)]
    assert capsys.readouterr().err.splitlines() == attempts * 2  # after the good reopen, two attempts again


def test_a_source_closed_while_reconnecting_stops_trying_and_has_not_stopped_on_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(app.engine.sources, "RECONNECT_WAIT_S", HANG_LIMIT_S)  # ended by close() alone
    source = ScriptedSource([FakeCapture(1, (32, 24))], reconnects=5)
    frames = iter(source)
    next(frames)
    threading.Timer(0.05, source.close).start()
    assert list(frames) == []
    assert not source.ended_early()
