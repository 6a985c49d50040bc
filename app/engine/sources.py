"""Frame sources: a video file, a camera, a network stream or a file played in a loop, one protocol (FrameSource):
each yields (index, t, frame) with t in seconds, ends when no frame comes, and says whether that end came early."""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

# OpenCV and its FFmpeg backend print their own warnings ("moov atom not found", "can't open camera by index")
# straight to stderr; the app reports every failure itself in one line, so they are silenced unless the user
# sets these variables. They must be set before OpenCV first opens a video.
os.environ.setdefault("OPENCV_LOG_LEVEL", "OFF")
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET

import cv2
import numpy as np

from models.file_names import NOT_UTF8, opencv_takes, readable

SAMPLE_CLIP = Path(__file__).resolve().parents[1] / "assets" / "sample_face.mp4"  # played when there is no camera
OPENCV_LOG_LEVEL_SILENT = 0  # cv::utils::logging::LOG_LEVEL_SILENT
MS_PER_S = 1000.0
DEFAULT_FPS = 30.0  # used when a container or camera does not report its frame rate
CAMERA_OPEN_TIMEOUT_MS = 3000  # a camera that takes longer than this to open counts as absent
# OpenCV's FFmpeg reader waits 30 s for a stream that sends nothing before giving up; a live view frozen that long
# looks hung, so a stream silent for these times counts as absent (at open) or as stopped (while reading).
STREAM_OPEN_TIMEOUT_MS = 10_000  # an RTSP or HTTP handshake over a slow link takes a few seconds, not ten
STREAM_READ_TIMEOUT_MS = 5_000  # longer than the gap between frames of any real stream, even a 1 fps camera's
RECONNECT_WAIT_S = 1.0  # between attempts to reopen a stopped camera or stream: time for it or its server to return
# Some streams and files report their timebase as a rate (90000 for MPEG); no camera delivers this many frames a
# second, and MPEG-4 writers refuse a rate over 65535, so an annotated copy at such a rate could not be written.
MAX_REPORTED_FPS = 1000.0
# A video that ends more than this many frames (or this fraction) short of the count in its header was cut off.
TRUNCATION_SLACK_FRAMES = 5
TRUNCATION_SLACK_FRACTION = 0.05
# The URL schemes OpenCV's FFmpeg reads streams over; a URL with another one is most likely a typo
STREAM_SCHEMES = ("http", "https", "rtsp", "rtsps", "rtmp", "rtmps", "rtp", "udp", "tcp", "srt", "file")
# Top-level box types an MP4/MOV file starts with; used only to word the error for a file that does not open.
MP4_BOX_TYPES = (b"ftyp", b"mdat", b"moov", b"free", b"wide", b"skip")

Frame = tuple[int, float, np.ndarray]


class FrameSource(Protocol):
    """What every source gives the pipeline. Iterating yields (index, t, frame) in order, t in seconds on the
    source's clock (a file's container times, else the monotonic clock since opening); the iteration ends when no
    frame comes, for every source alike, and ended_early() then says whether it stopped short of its natural end (a
    cut file; a camera or stream that stopped delivering) and timestamp_warning() whether some frame times had to be
    repaired. Opening a source that gives no first frame is a SourceError."""

    name: str  # how messages name it: the file, "camera 0", "stream URL"
    fps: float
    size: tuple[int, int]  # (width, height) of the first frame
    frame_count: int | None  # None for live sources and files whose header does not say
    frames_read: int

    def __iter__(self) -> Iterator[Frame]: ...

    def ended_early(self) -> bool: ...

    def timestamp_warning(self) -> str | None: ...

    def close(self) -> None: ...


class SourceError(Exception):
    """A frame source cannot be opened or read; the message is one line for the user."""


def quiet_opencv() -> None:
    """Silences OpenCV's own log lines at run time too, for when cv2 was imported before this module."""
    level = os.environ.get("OPENCV_LOG_LEVEL", "OFF").upper()
    if level in ("OFF", "SILENT", "DISABLED", "0") and hasattr(cv2, "setLogLevel"):
        cv2.setLogLevel(OPENCV_LOG_LEVEL_SILENT)


quiet_opencv()


def _describe_unopenable(path: Path) -> str:
    with path.open("rb") as file:
        head = file.read(8)
    if len(head) == 8 and head[4:8] in MP4_BOX_TYPES:
        return f"cannot read {path}: it looks like an MP4/MOV file but has no playable index (truncated or unfinished?)"
    return f"cannot read {path}: not a video file, or corrupt"


class MonotonicTimes:
    """Makes a file's frame times strictly increasing, as the smoothers and the CSV need: a time that is not above
    the one before (a repeat, a jump back as where recordings were joined, NaN, negative) becomes the one before plus
    one frame period. Counts the times it replaced."""

    def __init__(self, fps: float) -> None:
        self.period = 1.0 / fps
        self.previous = -self.period  # so that a first time that is NaN or negative becomes 0
        self.repaired = 0

    def __call__(self, t: float) -> float:
        if not (math.isfinite(t) and t >= 0 and t > self.previous):
            t = self.previous + self.period
            self.repaired += 1
        self.previous = t
        return t


def timestamp_warning(repaired: int, frames: int, path: Path) -> str | None:
    """The line telling the user that some rows' t are not the file's own times, or None when all are."""
    if repaired == 0:
        return None
    return (
        f"{repaired} of {frames} frames of {path} had timestamps that repeat or go backwards; "
        "each was placed one frame period after the one before"
    )


class VideoFileSource:
    """Frames of a video file with the container's timestamps (CAP_PROP_POS_MSEC of each frame), repaired where they
    repeat or go backwards (see MonotonicTimes); every frame is kept."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.name = str(self.path)
        if not self.path.exists():
            raise SourceError(f"no such file: {self.path}")
        if not self.path.is_file():
            raise SourceError(f"not a file: {self.path}")
        try:
            size = self.path.stat().st_size
            with self.path.open("rb"):
                pass
        except OSError as error:
            raise SourceError(f"cannot open {self.path}: {error.strerror}") from None
        if size == 0:
            raise SourceError(f"empty file: {self.path}")
        if not opencv_takes(self.path):
            raise SourceError(f"cannot open {readable(self.path)}: {NOT_UTF8}")
        self.capture = cv2.VideoCapture(str(self.path))
        if not self.capture.isOpened():
            self.capture.release()
            raise SourceError(_describe_unopenable(self.path))
        ok, first = self.capture.read()
        if not ok or first is None:
            self.capture.release()
            raise SourceError(f"cannot read {self.path}: no decodable frame (not a video file, or corrupt)")
        self._first: np.ndarray | None = first
        self.fps = reported_fps(self.capture)
        self._times = MonotonicTimes(self.fps)
        self._first_t = self._position()
        count = self.capture.get(cv2.CAP_PROP_FRAME_COUNT)
        self.frame_count: int | None = int(count) if count and np.isfinite(count) and count > 0 else None
        self.size = (first.shape[1], first.shape[0])  # (width, height)
        self.frames_read = 0
        self.last_t = self._first_t

    def __iter__(self) -> Iterator[Frame]:
        if self._first is None:
            raise SourceError(f"{self.path} can be read only once")
        frame, t = self._first, self._first_t
        self._first = None
        index = 0
        while True:
            self.frames_read, self.last_t = index + 1, t
            yield index, t, frame
            ok, frame = self.capture.read()
            if not ok or frame is None:
                break
            index += 1
            t = self._position()
        self.capture.release()

    def _position(self) -> float:
        return self._times(self.capture.get(cv2.CAP_PROP_POS_MSEC) / MS_PER_S)

    @property
    def repaired_timestamps(self) -> int:
        """Frames whose container time repeated or went backwards and was replaced."""
        return self._times.repaired

    def timestamp_warning(self) -> str | None:
        """One line for the user when some frame times were repaired; None when all are the file's own."""
        return timestamp_warning(self.repaired_timestamps, self.frames_read, self.path)

    def mean_period_s(self) -> float | None:
        """Seconds between the frames read, on average; None before two were read."""
        return (self.last_t - self._first_t) / (self.frames_read - 1) if self.frames_read > 1 else None

    def ended_early(self) -> bool:
        """Whether the frames read fall clearly short of the header's count: a truncated or damaged file."""
        if self.frame_count is None:
            return False
        slack = max(TRUNCATION_SLACK_FRAMES, TRUNCATION_SLACK_FRACTION * self.frame_count)
        return self.frames_read < self.frame_count - slack

    def close(self) -> None:
        """Releases the decoder; safe to call twice."""
        self.capture.release()


def reported_fps(capture: cv2.VideoCapture) -> float:
    """The frame rate a capture reports, or DEFAULT_FPS where it reports none or nonsense (0, NaN, negative, a
    timebase); frame times come from the container, so this rate only paces written video and repaired times."""
    fps = capture.get(cv2.CAP_PROP_FPS)
    return fps if np.isfinite(fps) and 0 < fps < MAX_REPORTED_FPS else DEFAULT_FPS


def camera_may_exist(index: int) -> bool:
    """A quick check that avoids probing (slow, noisy) camera backends on Linux machines without /dev/videoN."""
    if sys.platform.startswith("linux"):
        return Path(f"/dev/video{index}").exists()
    return True


class LiveCapture:
    """A source read as it comes (a camera, a network stream): t is the monotonic clock since opening, as live
    timestamps are unreliable, and the frames have no end of their own, so any end of them is early. With
    `reconnects`, a source that stops is reopened up to that many times in a row before it counts as stopped; frame
    indexes and times run on across the gap, which the smoothers bridge like any other."""

    def __init__(self, name: str, reconnects: int = 0) -> None:
        """Opens the source and reads its first frame now, so that a source that gives none fails at once."""
        self.name, self.reconnects = name, reconnects
        self.capture = self.open()
        ok, first = self.capture.read()
        if not ok or first is None:
            self.capture.release()
            raise SourceError(f"{name} opened but gave no frame")
        self._first: np.ndarray | None = first
        self.fps = reported_fps(self.capture)
        self.frame_count: int | None = None
        self.size = (first.shape[1], first.shape[0])
        self.frames_read = 0
        self.stopped = False
        self._closed = threading.Event()  # set by close(), from another thread than the reading one
        self._start = time.monotonic()

    def open(self) -> cv2.VideoCapture:
        """An opened capture of the source, else SourceError; called again for each reconnect."""
        raise NotImplementedError

    def __iter__(self) -> Iterator[Frame]:
        frame, self._first = self._first, None
        index = 0
        while frame is not None:
            self.frames_read = index + 1
            yield index, time.monotonic() - self._start, frame
            frame = self._next_frame()
            index += 1

    def _next_frame(self) -> np.ndarray | None:
        """The next frame, reopening the source when none comes; None once every attempt in a row has failed."""
        frame = self._read()
        attempt = 0
        while frame is None and attempt < self.reconnects and not self._closed.is_set():
            attempt += 1
            print(
                f"{self.name} stopped delivering frames; reconnecting ({attempt}/{self.reconnects})",
                file=sys.stderr,
                flush=True,
            )
            if self._closed.wait(RECONNECT_WAIT_S):
                break
            frame = self._reopen()
        self.stopped = frame is None and not self._closed.is_set()  # closed by the app: the run ended, not the source
        return frame

    def _read(self) -> np.ndarray | None:
        """A frame at the size the source started with: a reopened camera or stream may come back at another, and
        a recording keeps one size."""
        ok, frame = self.capture.read()
        if not ok or frame is None:
            return None
        return frame if (frame.shape[1], frame.shape[0]) == self.size else cv2.resize(frame, self.size)

    def _reopen(self) -> np.ndarray | None:
        """A fresh capture in place of the stopped one, and its first frame; None when it does not open or read."""
        self.capture.release()
        try:
            self.capture = self.open()
        except SourceError:
            return None
        if self._closed.is_set():  # closed while opening: the reader must not outlive close()
            self.capture.release()
            return None
        return self._read()

    def ended_early(self) -> bool:
        return self.stopped

    def timestamp_warning(self) -> str | None:
        """None: live frames are stamped with the monotonic clock, which never repeats or goes back."""
        return None

    def close(self) -> None:
        """Releases the capture and ends any reconnecting; safe to call twice."""
        self._closed.set()
        self.capture.release()


class CameraSource(LiveCapture):
    """Live frames of a camera, at `size` (width, height) when given and the camera can give it."""

    def __init__(self, index: int = 0, size: tuple[int, int] | None = None, reconnects: int = 0) -> None:
        self.index, self.requested_size = index, size
        super().__init__(f"camera {index}", reconnects)

    def open(self) -> cv2.VideoCapture:
        if not camera_may_exist(self.index):
            raise SourceError(f"no camera {self.index} found")
        api = cv2.CAP_V4L2 if sys.platform.startswith("linux") else cv2.CAP_ANY
        capture = cv2.VideoCapture(self.index, api, [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, CAMERA_OPEN_TIMEOUT_MS])
        if not capture.isOpened():
            capture.release()
            raise SourceError(f"cannot open camera {self.index}")
        if self.requested_size is not None:
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.requested_size[0])
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.requested_size[1])
        return capture


class StreamSource(LiveCapture):
    """A network stream (rtsp://, http://, file://...) read as it comes, like a camera."""

    def __init__(self, url: str, reconnects: int = 0) -> None:
        if not opencv_takes(url):
            raise SourceError(f"cannot open stream {readable(url)}: {NOT_UTF8}")
        self.url = url
        super().__init__(f"stream {url}", reconnects)

    def open(self) -> cv2.VideoCapture:
        timeouts = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
            STREAM_OPEN_TIMEOUT_MS,
            cv2.CAP_PROP_READ_TIMEOUT_MSEC,
            STREAM_READ_TIMEOUT_MS,
        ]
        capture = cv2.VideoCapture(self.url, cv2.CAP_ANY, timeouts)
        if not capture.isOpened():
            capture.release()
            scheme = self.url.partition("://")[0].lower()
            if scheme not in STREAM_SCHEMES:  # a typo (htp://) fails like a dead server: say which it is
                raise SourceError(
                    f"cannot open stream {self.url}: unknown scheme {scheme!r} ({', '.join(STREAM_SCHEMES)})"
                )
            raise SourceError(f"cannot open stream {self.url}")
        return capture


class LoopedFileSource:
    """A video file played again and again, its times running on, so that a demo clip lasts until the user quits."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.name = f"{self.path} (looped)"
        first = VideoFileSource(self.path)  # checks the file now, in one line
        self.fps, self.size = first.fps, first.size
        self.frame_count: int | None = None
        self.frames_read = 0
        self._current: VideoFileSource | None = first
        self._repaired_before = 0  # repaired times of the plays already finished

    def __iter__(self) -> Iterator[Frame]:
        offset = 0.0
        while True:
            source = self._current or VideoFileSource(self.path)
            self._current = source
            last_t = 0.0
            try:
                for _, t, frame in source:
                    last_t, index = t, self.frames_read
                    self.frames_read += 1
                    yield index, offset + t, frame
            finally:
                source.close()
                self._current = None
                self._repaired_before += source.repaired_timestamps
            offset += last_t + 1.0 / source.fps

    @property
    def repaired_timestamps(self) -> int:
        """Frames of all plays so far whose container time repeated or went backwards and was replaced."""
        current = self._current.repaired_timestamps if self._current is not None else 0
        return self._repaired_before + current

    def timestamp_warning(self) -> str | None:
        """As VideoFileSource's, over all plays so far."""
        return timestamp_warning(self.repaired_timestamps, self.frames_read, self.path)

    def ended_early(self) -> bool:
        return False

    def close(self) -> None:
        if self._current is not None:
            self._current.close()
