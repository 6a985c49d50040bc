"""Frame sources: container timestamps, every frame, and one-line errors for files that are not videos."""

from __future__ import annotations

import os
import time
from itertools import islice, pairwise
from pathlib import Path

import cv2
import pytest

from app.engine.sources import (
    DEFAULT_FPS,
    CameraSource,
    FrameSource,
    LoopedFileSource,
    SourceError,
    StreamSource,
    VideoFileSource,
    reported_fps,
)
from app.output.annotate import VideoOutputError, check_video_name
from tests.app.mp4_tools import faststart
from tests.conftest import SAMPLE_CLIP, count_frames

TRUNCATE_AT = 0.6  # keep this fraction of the file's bytes


class ReportedRate:
    """A capture that reports only a frame rate."""

    def __init__(self, fps: float) -> None:
        self.fps = fps

    def get(self, prop: int) -> float:
        assert prop == cv2.CAP_PROP_FPS
        return self.fps


@pytest.mark.parametrize(("reported", "used"), [(25.0, 25.0), (240.0, 240.0), (0.0, DEFAULT_FPS),
                                                (float("nan"), DEFAULT_FPS), (-30.0, DEFAULT_FPS),
                                                (90000.0, DEFAULT_FPS)])  # fmt: skip
def test_a_reported_frame_rate_is_used_unless_it_is_none_or_a_timebase(reported: float, used: float) -> None:
    """90000 is MPEG's timebase, not a camera's rate: written at it, an annotated copy would fail (MPEG-4 writers take
    at most 65535)."""
    assert reported_fps(ReportedRate(reported)) == used


def test_sample_clip_frames_and_container_timestamps() -> None:
    source = VideoFileSource(SAMPLE_CLIP)
    capture = cv2.VideoCapture(str(SAMPLE_CLIP))
    items = list(source)
    assert len(items) == count_frames(SAMPLE_CLIP) == 72
    assert [index for index, _, _ in items] == list(range(len(items)))
    for _, t, frame in items:
        ok, expected = capture.read()
        assert ok and (frame == expected).all()
        assert t == pytest.approx(capture.get(cv2.CAP_PROP_POS_MSEC) / 1000)
    times = [t for _, t, _ in items]
    assert times == sorted(times) and times[0] == 0.0
    assert source.size == (640, 360) and source.fps == pytest.approx(30.0)
    assert not source.ended_early()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.mp4", "no such file"),
        (lambda d: d, "not a file"),
        (lambda d: _write(d / "empty.mp4", b""), "empty file"),
        (lambda d: _write(d / "random.mp4", bytes(range(256)) * 400), "not a video file, or corrupt"),
        (lambda d: _write(d / "text.mp4", b"hello\n" * 100), "not a video file, or corrupt"),
        (lambda d: _write(d / "cut.mp4", _cut(SAMPLE_CLIP.read_bytes())), "truncated"),
    ],
    ids=["missing", "folder", "empty", "random-bytes", "text", "cut-before-index"],
)
def test_unreadable_files_give_one_line_errors(tmp_path: Path, make, message: str) -> None:
    with pytest.raises(SourceError, match=message) as error:
        VideoFileSource(make(tmp_path))
    assert "\n" not in str(error.value)


def test_truncated_streamable_mp4_yields_frames_up_to_the_cut(tmp_path: Path) -> None:
    data = faststart(SAMPLE_CLIP.read_bytes())
    whole = _write(tmp_path / "whole.mp4", data)
    assert count_frames(whole) == 72  # the rewrite itself is lossless
    cut = _write(tmp_path / "cut.mp4", data[: int(TRUNCATE_AT * len(data))])
    source = VideoFileSource(cut)
    frames = sum(1 for _ in source)
    assert 0 < frames < 72
    assert source.frames_read == frames
    assert source.ended_early()


def test_missing_camera_fails_fast_and_quietly(capfd: pytest.CaptureFixture[str]) -> None:
    index = 97  # no machine has 98 cameras
    start = time.monotonic()
    with pytest.raises(SourceError):
        CameraSource(index)
    assert time.monotonic() - start < 5
    assert capfd.readouterr().err == ""


def _cut(data: bytes) -> bytes:
    return data[: int(TRUNCATE_AT * len(data))]


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


SAMPLE_FRAMES = 72


def test_a_stream_url_is_read_like_a_camera_and_its_end_counts_as_a_stop() -> None:
    """file:// goes through the same FFmpeg URL reader as rtsp:// or http://, without a network."""
    stream = StreamSource(SAMPLE_CLIP.resolve().as_uri())
    times = [t for _, t, _ in stream]
    stream.close()
    assert len(times) == stream.frames_read == SAMPLE_FRAMES
    assert all(b >= a for a, b in pairwise(times))
    assert stream.ended_early()  # a stream read as live has no end of its own
    assert stream.name == f"stream {SAMPLE_CLIP.resolve().as_uri()}" and stream.size == (640, 360)


def test_a_stream_url_with_a_mistyped_scheme_says_so() -> None:
    """htp:// fails as a dead server does; the line says which it is."""
    with pytest.raises(SourceError, match=r"^cannot open stream htp://127.0.0.1:9/x: unknown scheme 'htp' \(http, "):
        StreamSource("htp://127.0.0.1:9/x")


def test_an_unreachable_stream_is_one_clear_error() -> None:
    with pytest.raises(SourceError, match="cannot open stream rtsp://127.0.0.1:9/none"):
        StreamSource("rtsp://127.0.0.1:9/none")


def test_names_opencv_cannot_take_are_refused_before_it_sees_them() -> None:
    """OpenCV's binding crashes the process on a str that is not UTF-8 (an address or name typed in Latin-1 bytes)."""
    latin1 = os.fsdecode(b"caf\xe9")
    with pytest.raises(SourceError, match=r"cannot open stream rtsp://caf\\xe9/live: its name is not UTF-8"):
        StreamSource(f"rtsp://{latin1}/live")
    with pytest.raises(VideoOutputError, match=r"cannot write video caf\\xe9.mp4: its name is not UTF-8"):
        check_video_name(Path(f"{latin1}.mp4"))


def test_a_looped_file_runs_on_with_rising_times_and_never_ends_early() -> None:
    source = LoopedFileSource(SAMPLE_CLIP)
    frames = list(islice(source, SAMPLE_FRAMES + 5))
    source.close()
    assert [index for index, _, _ in frames] == list(range(SAMPLE_FRAMES + 5))
    assert all(b[1] > a[1] for a, b in pairwise(frames))
    assert not source.ended_early() and source.frame_count is None


@pytest.mark.parametrize(
    "open_source",
    [
        lambda: VideoFileSource(SAMPLE_CLIP),
        lambda: StreamSource(SAMPLE_CLIP.resolve().as_uri()),
        lambda: LoopedFileSource(SAMPLE_CLIP),
    ],
    ids=["file", "stream", "looped file"],
)
def test_every_source_keeps_one_protocol(open_source) -> None:
    source = open_source()
    members = [name for name in FrameSource.__annotations__] + ["ended_early", "timestamp_warning", "close", "__iter__"]
    assert all(hasattr(source, name) for name in members)
    index, t, frame = next(iter(source))
    assert (index, source.frames_read) == (0, 1) and t >= 0 and (frame.shape[1], frame.shape[0]) == source.size
    source.close()
