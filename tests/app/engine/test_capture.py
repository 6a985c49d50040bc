"""The capture thread hands out only the newest frame, counts the rest as drops, and paces files in real time."""

from __future__ import annotations

import time
from collections.abc import Iterator
from itertools import pairwise

import numpy as np
import pytest

from app.engine.capture import LatestFrameCapture, RateMeter
from app.engine.sources import SourceError

FRAME = np.zeros((8, 8, 3), np.uint8)
FAST_FRAMES = 50
PACED_FPS = 50
PACED_FRAMES = 25  # half a second of a paced file
TIMEOUT_S = 5.0
CLIP_FRAMES = 72


def frames(count: int, fps: float = 30.0) -> Iterator[tuple[int, float, np.ndarray]]:
    for index in range(count):
        yield index, index / fps, FRAME


def take_all(capture: LatestFrameCapture, busy_s: float = 0.0) -> list[int]:
    taken = []
    while (captured := capture.latest(TIMEOUT_S)) is not None:
        taken.append(captured.index)
        time.sleep(busy_s)
    return taken


def test_a_slow_consumer_gets_the_newest_frames_and_the_rest_count_as_dropped() -> None:
    capture = LatestFrameCapture(frames(FAST_FRAMES)).start()
    time.sleep(0.2)  # the whole unpaced source is read meanwhile
    taken = take_all(capture)
    capture.stop()
    assert taken == [FAST_FRAMES - 1]
    assert (capture.captured, capture.dropped) == (FAST_FRAMES, FAST_FRAMES - 1)
    assert capture.ended


def test_the_frames_passed_over_come_along_with_the_newest_so_each_can_still_be_shown() -> None:
    capture = LatestFrameCapture(frames(FAST_FRAMES)).start()
    time.sleep(0.2)
    newest = capture.latest(TIMEOUT_S)
    capture.stop()
    assert newest is not None and newest.index == FAST_FRAMES - 1
    assert [frame.index for frame in newest.skipped] == list(range(FAST_FRAMES - 1))
    assert [frame.source_t for frame in newest.skipped[:2]] == [0.0, 1 / 30]  # each with its own times


def test_a_paced_file_is_released_in_real_time_with_real_timestamps() -> None:
    capture = LatestFrameCapture(frames(PACED_FRAMES, PACED_FPS), paced=True).start()
    stamps = []
    while (captured := capture.latest(TIMEOUT_S)) is not None:
        stamps.append(captured.t)
    capture.stop()
    duration = (PACED_FRAMES - 1) / PACED_FPS
    assert stamps[-1] == pytest.approx(duration, abs=0.1)
    assert capture.captured == PACED_FRAMES
    assert len(stamps) + capture.dropped == PACED_FRAMES
    assert all(b > a for a, b in pairwise(stamps))


def test_frames_are_resized_to_the_asked_size() -> None:
    capture = LatestFrameCapture(frames(1), size=(4, 2)).start()
    captured = capture.latest(TIMEOUT_S)
    capture.stop()
    assert captured is not None and captured.frame.shape == (2, 4, 3)


def test_a_source_error_reaches_the_consumer() -> None:
    def failing() -> Iterator[tuple[int, float, np.ndarray]]:
        yield 0, 0.0, FRAME
        raise SourceError("camera 0 stopped delivering frames after 1 frames")

    capture = LatestFrameCapture(failing()).start()
    time.sleep(0.1)
    assert capture.latest(TIMEOUT_S) is not None
    with pytest.raises(SourceError, match="stopped delivering"):
        capture.latest(TIMEOUT_S)
    capture.stop()


def test_rate_meter_counts_events_per_second_over_its_window() -> None:
    meter = RateMeter(window_s=1.0)
    assert meter.rate() == 0.0
    for tick in range(31):
        meter.tick(tick / 10)  # 10 per second for 3 s
    assert meter.rate() == pytest.approx(10.0)
