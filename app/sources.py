"""Frame sources: a video file, a camera, a network stream or a file played in a loop, one protocol (FrameSource):
each yields (index, t, frame) with t in seconds, ends when no frame comes, and says whether that end came early."""

from __future__ import annotations

import os
import sys
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

OPENCV_LOG_LEVEL_SILENT = 0  # cv::utils::logging::LOG_LEVEL_SILENT
MS_PER_S = 1000.0
DEFAULT_FPS = 30.0  # used when a container or camera does not report its frame rate
CAMERA_OPEN_TIMEOUT_MS = 3000  # a camera that takes longer than this to open counts as absent
MAX_STREAM_FPS = 1000.0  # some streams report their timebase as a rate; no real stream is this fast
# A video that ends more than this many frames (or this fraction) short of the count in its header was cut off.
TRUNCATION_SLACK_FRAMES = 5
TRUNCATION_SLACK_FRACTION = 0.05
# Top-level box types an MP4/MOV file starts with; used only to word the error for a file that does not open.
MP4_BOX_TYPES = (b"ftyp", b"mdat", b"moov", b"free", b"wide", b"skip")

Frame = tuple[int, float, np.ndarray]


class FrameSource(Protocol):
    """What every source gives the pipeline. Iterating yields (index, t, frame) in order, t in seconds on the
    source's clock (a file's container times, else the monotonic clock since opening); the iteration ends when no
    frame comes, for every source alike, and ended_early() then says whether it stopped short of its natural end (a
    cut file; a camera or stream that stopped delivering). Opening a source that gives no first frame is a
    SourceError."""

    name: str  # how messages name it: the file, "camera 0", "stream URL"
    fps: float
    size: tuple[int, int]  # (width, height) of the first frame
    frame_count: int | None  # None for live sources and files whose header does not say
    frames_read: int

    def __iter__(self) -> Iterator[Frame]: ...

    def ended_early(self) -> bool: ...

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


class VideoFileSource:
    """Frames of a video file with the container's timestamps (CAP_PROP_POS_MSEC of each frame)."""

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
        self.capture = cv2.VideoCapture(str(self.path))
        if not self.capture.isOpened():
            self.capture.release()
            raise SourceError(_describe_unopenable(self.path))
        ok, first = self.capture.read()
        if not ok or first is None:
            self.capture.release()
            raise SourceError(f"cannot read {self.path}: no decodable frame (not a video file, or corrupt)")
        self._first: np.ndarray | None = first
        self._first_t = self.capture.get(cv2.CAP_PROP_POS_MSEC) / MS_PER_S
        self.fps = reported_fps(self.capture)
        count = self.capture.get(cv2.CAP_PROP_FRAME_COUNT)
        self.frame_count: int | None = int(count) if count and np.isfinite(count) and count > 0 else None
        self.size = (first.shape[1], first.shape[0])  # (width, height)
        self.frames_read = 0

    def __iter__(self) -> Iterator[Frame]:
        if self._first is None:
            raise SourceError(f"{self.path} can be read only once")
        frame, t = self._first, self._first_t
        self._first = None
        index = 0
        while True:
            self.frames_read = index + 1
            yield index, t, frame
            ok, frame = self.capture.read()
            if not ok or frame is None:
                break
            index += 1
            t = self.capture.get(cv2.CAP_PROP_POS_MSEC) / MS_PER_S
        self.capture.release()

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
    """The frame rate a capture reports, or DEFAULT_FPS where it reports none or nonsense (0, NaN, negative)."""
    fps = capture.get(cv2.CAP_PROP_FPS)
    return fps if fps and np.isfinite(fps) and fps > 0 else DEFAULT_FPS


def camera_may_exist(index: int) -> bool:
    """A quick check that avoids probing (slow, noisy) camera backends on Linux machines without /dev/videoN."""
    if sys.platform.startswith("linux"):
        return Path(f"/dev/video{index}").exists()
    return True


class LiveCapture:
    """A source read as it comes (a camera, a network stream): t is the monotonic clock since opening, as live
    timestamps are unreliable, and the frames have no end of their own, so any end of them is early."""

    def __init__(self, capture: cv2.VideoCapture, name: str, fps: float) -> None:
        """Takes an opened capture and reads its first frame now, so that a source that gives none fails at once."""
        self.capture, self.name = capture, name
        ok, first = capture.read()
        if not ok or first is None:
            capture.release()
            raise SourceError(f"{name} opened but gave no frame")
        self._first: np.ndarray | None = first
        self.fps = fps
        self.frame_count: int | None = None
        self.size = (first.shape[1], first.shape[0])
        self.frames_read = 0
        self.stopped = False
        self._start = time.monotonic()

    def __iter__(self) -> Iterator[Frame]:
        frame, self._first = self._first, None
        index = 0
        while frame is not None:
            self.frames_read = index + 1
            yield index, time.monotonic() - self._start, frame
            ok, frame = self.capture.read()
            if not ok or frame is None:
                self.stopped = True
                return
            index += 1

    def ended_early(self) -> bool:
        return self.stopped

    def close(self) -> None:
        self.capture.release()


class CameraSource(LiveCapture):
    """Live frames of a camera."""

    def __init__(self, index: int = 0) -> None:
        self.index = index
        if not camera_may_exist(index):
            raise SourceError(f"no camera {index}")
        api = cv2.CAP_V4L2 if sys.platform.startswith("linux") else cv2.CAP_ANY
        capture = cv2.VideoCapture(index, api, [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, CAMERA_OPEN_TIMEOUT_MS])
        if not capture.isOpened():
            capture.release()
            raise SourceError(f"cannot open camera {index}")
        super().__init__(capture, f"camera {index}", reported_fps(capture))


class StreamSource(LiveCapture):
    """A network stream (rtsp://, http://, file://...) read as it comes, like a camera."""

    def __init__(self, url: str) -> None:
        self.url = url
        capture = cv2.VideoCapture(url)
        if not capture.isOpened():
            capture.release()
            raise SourceError(f"cannot open stream {url}")
        fps = reported_fps(capture)
        super().__init__(capture, f"stream {url}", fps if fps < MAX_STREAM_FPS else DEFAULT_FPS)


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
            offset += last_t + 1.0 / source.fps

    def ended_early(self) -> bool:
        return False

    def close(self) -> None:
        if self._current is not None:
            self._current.close()
