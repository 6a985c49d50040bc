"""Capture on its own thread: the camera is read at its own rate and the processing loop takes only the newest frame.

Frames that arrive while the loop is busy are passed over and counted as dropped, as a live app must, yet handed
over with the newest one (CapturedFrame.skipped), so that each can still be shown and written; every frame is stamped
with the monotonic clock when it was read, so the smoothers see the real times and the real gaps.
A video file can stand in for a camera: it is then paced in real time (frame t is released at start + t).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, replace

import cv2
import numpy as np

RATE_WINDOW_S = 2.0  # frame rates are measured over this many recent seconds: steady, yet quick to follow changes
PACING_SLEEP_MAX_S = 0.05  # a paced file sleeps in slices this short, so stop() is never kept waiting long
STOP_JOIN_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class CapturedFrame:
    """A frame as read: its capture number (gaps between taken numbers are drops), monotonic read time, the
    source's own timestamp (a file's container time), and the pixels."""

    index: int
    t: float
    frame: np.ndarray
    source_t: float = 0.0
    skipped: tuple[CapturedFrame, ...] = ()  # the frames passed over since the last one taken, oldest first


class NewestFrame:
    """Hands frames from a producer to a slower consumer: take() gives the newest frame put, and those it replaced
    come along (CapturedFrame.skipped), counted as dropped, for a consumer that still shows or writes each one."""

    def __init__(self) -> None:
        self.dropped = 0
        self._newest: CapturedFrame | None = None
        self._passed: list[CapturedFrame] = []
        self._ended = False
        self._ready = threading.Condition()

    def put(self, frame: CapturedFrame) -> None:
        with self._ready:
            if self._newest is not None:
                self.dropped += 1
                self._passed.append(self._newest)
            self._newest = frame
            self._ready.notify_all()

    def end(self) -> None:
        """No more frames will come; take() still gives the last one put."""
        with self._ready:
            self._ended = True
            self._ready.notify_all()

    def take(self, timeout_s: float | None = None) -> CapturedFrame | None:
        """The newest frame not yet taken, with the ones it replaced, waiting for one; None once ended (or on
        timeout)."""
        with self._ready:
            self._ready.wait_for(lambda: self._newest is not None or self._ended, timeout_s)
            newest, self._newest = self._newest, None
            passed, self._passed = self._passed, []
        return replace(newest, skipped=tuple(passed)) if newest is not None and passed else newest

    @property
    def ended(self) -> bool:
        return self._ended and self._newest is None


class RateMeter:
    """Events per second over the last RATE_WINDOW_S seconds."""

    def __init__(self, window_s: float = RATE_WINDOW_S) -> None:
        self.window_s = window_s
        self._times: deque[float] = deque()

    def tick(self, now: float) -> None:
        self._times.append(now)
        while self._times and now - self._times[0] > self.window_s:
            self._times.popleft()

    def rate(self) -> float:
        if len(self._times) < 2 or self._times[-1] <= self._times[0]:
            return 0.0
        return (len(self._times) - 1) / (self._times[-1] - self._times[0])


class LatestFrameCapture:
    """Reads `frames` on a thread; latest() returns the newest unread frame, carrying the unread older ones
    (CapturedFrame.skipped), which count as drops.

    With `paced` the source's own timestamps set when each frame is released (a file standing in for a camera);
    `size` (width, height) resizes frames that differ, for sources that cannot be asked for a resolution.
    """

    def __init__(
        self,
        frames: Iterable[tuple[int, float, np.ndarray]],
        paced: bool = False,
        size: tuple[int, int] | None = None,
    ) -> None:
        self._frames = frames
        self.paced = paced
        self.size = size
        self.captured = 0
        self.rate = RateMeter()
        self._slot = NewestFrame()
        self._error: Exception | None = None
        self._stop = threading.Event()
        self._start = time.monotonic()
        self._thread = threading.Thread(target=self._read, name="capture", daemon=True)

    def start(self) -> LatestFrameCapture:
        self._start = time.monotonic()
        self._thread.start()
        return self

    def now(self) -> float:
        """Seconds since start() on the clock the frames are stamped with."""
        return time.monotonic() - self._start

    def _read(self) -> None:
        try:
            first_t: float | None = None
            for _, source_t, frame in self._frames:
                if self._stop.is_set():
                    break
                if self.paced:
                    first_t = source_t if first_t is None else first_t
                    self._wait_until(source_t - first_t)
                if self.size is not None and (frame.shape[1], frame.shape[0]) != self.size:
                    frame = cv2.resize(frame, self.size)
                stamped = CapturedFrame(self.captured, self.now(), frame, source_t)
                self.captured += 1
                self.rate.tick(stamped.t)
                self._slot.put(stamped)
        except Exception as error:  # handed to the processing loop, which reports it in one line
            self._error = error
        finally:
            self._slot.end()

    def _wait_until(self, due: float) -> None:
        while not self._stop.is_set():
            left = due - self.now()
            if left <= 0:
                return
            time.sleep(min(left, PACING_SLEEP_MAX_S))

    def latest(self, timeout_s: float | None = None) -> CapturedFrame | None:
        """The newest frame not yet taken, with the ones passed over since the last, waiting for one; None once the
        source has ended (or on timeout)."""
        newest = self._slot.take(timeout_s)
        if newest is None and self._error is not None:
            error, self._error = self._error, None
            raise error
        return newest

    @property
    def dropped(self) -> int:
        """Frames passed over: read while the consumer was busy with an older one."""
        return self._slot.dropped

    @property
    def ended(self) -> bool:
        return self._slot.ended

    def stop(self) -> None:
        """Stops reading; the source itself is closed by whoever opened it."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(STOP_JOIN_TIMEOUT_S)
