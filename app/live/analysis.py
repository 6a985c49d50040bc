"""Analysis on its own thread, for the live view: the pipeline always takes the newest frame offered, as fast as it
can, while the view shows every captured frame with the tracks predicted to its time and never waits for it."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from app.engine.capture import CapturedFrame, NewestFrame
from app.engine.pipeline import Pipeline
from app.engine.results import FrameResult

STOP_JOIN_TIMEOUT_S = 10.0  # the frame in hand is finished first: one analysis, however busy the machine


@dataclass(frozen=True)
class Analysed:
    """One frame's result, in frame order: analysed, with how long after its capture it was ready, or dropped
    (passed over for a newer frame) and predicted, without a latency."""

    result: FrameResult
    latency_s: float | None = None


class BackgroundAnalysis:
    """Runs the pipeline on a thread of its own on the newest frame offered; the frames offered while it was busy
    come out dropped, predicted to their times just before the newer frame is analysed (as `video --realtime` has
    them). results() hands over every frame offered, in order, once its result is known."""

    def __init__(self, pipeline: Pipeline, clock: Callable[[], float], max_frames: int | None = None) -> None:
        self.pipeline = pipeline
        self.clock = clock  # the clock the frames were stamped with, for the latency
        self.max_frames = max_frames
        self._frames = NewestFrame()
        self._done: deque[Analysed] = deque()
        self._analysed = 0
        self._error: Exception | None = None
        self._abandon = False
        self._thread = threading.Thread(target=self._run, name="analysis", daemon=True)

    def start(self) -> BackgroundAnalysis:
        self._thread.start()
        return self

    def offer(self, captured: CapturedFrame) -> None:
        """The newest frame; the one still waiting for analysis, if any, is passed over."""
        self._frames.put(captured)

    def results(self) -> list[Analysed]:
        """The frames whose results came since the last call, oldest first; once they are handed over, the error
        that stopped the analysis (a detector that failed, say) is raised here, on the caller's thread."""
        done = []
        while self._done:
            done.append(self._done.popleft())
        if not done and self._error is not None:
            error, self._error = self._error, None
            raise error
        return done

    def stop(self, finish: bool = False) -> None:
        """Ends the thread once the frame in hand is done; the frames still waiting come out dropped, or with
        `finish` (the source ended: its last frame is no drop) the newest of them is analysed."""
        self._abandon = not finish
        self._frames.end()
        if self._thread.is_alive():
            self._thread.join(STOP_JOIN_TIMEOUT_S)
        if not self._thread.is_alive() and (left := self._frames.take(0)) is not None:
            self._skip((*left.skipped, left))

    def _run(self) -> None:
        try:
            while self.max_frames is None or self._analysed < self.max_frames:
                captured = self._frames.take()
                if captured is None:
                    return
                if self._abandon:
                    self._skip((*captured.skipped, captured))
                    return
                self._skip(captured.skipped)
                result = self.pipeline.process(captured.index, captured.t, captured.frame)
                self._done.append(Analysed(result, self.clock() - captured.t))
                self._analysed += 1
        except Exception as error:  # handed to the loop, which reports it in one line
            self._error = error

    def _skip(self, frames: tuple[CapturedFrame, ...]) -> None:
        for frame in frames:
            self._done.append(Analysed(self.pipeline.skip(frame.index, frame.t)))
