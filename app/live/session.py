"""The live loop: every captured frame is shown at the camera's rate, each live track predicted to its capture time,
while the pipeline analyses the newest frame on a thread of its own, as fast as it can; in a window or in files.

Keys in the window: the number keys switch the smoother, r toggles raw only, space pauses, s saves a screenshot,
f toggles fullscreen, h shows the keys, q or Esc quits. Without a window the same loop runs and writes what it would
have shown (the view as a video, and the CSV).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

import smoothing
from app.engine.capture import CapturedFrame, LatestFrameCapture, RateMeter
from app.engine.pipeline import Pipeline
from app.engine.results import FrameResult
from app.live.analysis import Analysed, BackgroundAnalysis
from app.live.view import HINT_S, MIN_WINDOW, LiveView, Status
from app.output.annotate import AnnotatedVideoWriter, draw_result
from app.output.csv_writer import DROPPED_COLUMN, SMOOTHED_COLUMNS, CsvWriter, dropped_cell, frame_rows
from app.output.jsonl import JsonlWriter

WINDOW_NAME = "EmoSmooth"
# a frame analysis passed over is written with the predictions shown, flagged dropped; the smoother can change
# mid-run, so each row names its own
LIVE_COLUMNS = (*SMOOTHED_COLUMNS, DROPPED_COLUMN, "smoother")
SMOOTHER_KEYS = {ord(str(number)): name for number, name in enumerate(smoothing.available()[:9], start=1)}
RAW_KEYS = (ord("r"), ord("R"))
PAUSE_KEY = ord(" ")
SCREENSHOT_KEYS = (ord("s"), ord("S"))
FULLSCREEN_KEYS = (ord("f"), ord("F"))
HELP_KEYS = (ord("h"), ord("H"))
QUIT_KEYS = (ord("q"), ord("Q"), 27)  # 27 is Esc
KEY_WAIT_MS = 1
# waitKeyEx's code: GTK adds the modifiers held (Shift, Caps Lock, NumLock) above the low 16 bits; a key that types
# no character (an arrow, F1) comes as its X keysym, 0xFF51 for Left, whose low byte would read as 'Q'
KEY_CODE_BITS = 0xFFFF
MAX_CHARACTER_CODE = 0xFF
FRAME_WAIT_S = 0.03  # while no new frame has come, the window still answers keys this often
MS_PER_S = 1000.0


@dataclass
class LiveSummary:
    """What the run did, for the closing lines."""

    captured: int
    shown: int
    processed: int
    dropped: int  # shown but not analysed: their rows are the predictions shown
    elapsed_s: float
    mean_latency_ms: float
    screenshots: list[Path]
    stopped_by: KeyboardInterrupt | None = None  # Ctrl+C or SIGTERM (app.errors.Stopped), after which outputs closed
    quit: bool = False  # the user ended the run (q, Esc, the window closed, --max-frames), not the source


class LiveSession:
    """One run of the live loop; the window (when there is one) belongs to it."""

    def __init__(
        self,
        pipeline: Pipeline,
        capture: LatestFrameCapture,
        fps: float,
        out_dir: Path,
        csv_path: Path | None = None,
        record_path: Path | None = None,
        window: bool = True,
        max_frames: int | None = None,
        bare_record_path: Path | None = None,
        jsonl: JsonlWriter | None = None,
    ) -> None:
        self.pipeline = pipeline  # with the smoother to start with; the number keys switch it
        self.capture = capture
        keys = [(chr(key), name) for key, name in SMOOTHER_KEYS.items()]
        self.view = LiveView(keys)
        self.fps = fps
        self.out_dir = out_dir
        self.csv = CsvWriter(csv_path, LIVE_COLUMNS) if csv_path is not None else None
        self.record_path = record_path
        self.recorder: AnnotatedVideoWriter | None = None
        self.bare_record_path = bare_record_path  # the picture with boxes and labels only, at the source's size
        self.bare_recorder: AnnotatedVideoWriter | None = None
        self.jsonl = jsonl  # one JSON line per frame, for a program following the session; not closed here
        self.quit = False  # set by q or Esc: the run ends at the next turn of the loop
        self.show_help = False
        self.fullscreen = False
        self.window = window
        self.max_frames = max_frames
        self.raw_only = False
        self.paused = False
        self.processed = 0
        self.processed_rate = RateMeter()
        self.shown_frames = 0
        self.shown_rate = RateMeter()
        self.dropped = 0
        self.analysis: BackgroundAnalysis | None = None  # started by run()
        self.latency_total_s = 0.0
        self.last_latency_s = 0.0
        self.last_index = -1
        self.shown: np.ndarray | None = None
        self.shown_index = 0
        self._last: tuple[np.ndarray, FrameResult, float] | None = None  # to redraw when paused
        self.screenshots: list[Path] = []

    @property
    def smoother(self) -> str:
        return self.pipeline.smoother or ""

    def status(self) -> Status:
        captured = max(self.capture.captured, 1)
        return Status(
            camera_fps=self.capture.rate.rate(),
            shown_fps=self.shown_rate.rate(),
            processed_fps=self.processed_rate.rate(),
            latency_ms=self.last_latency_s * MS_PER_S,
            dropped_share=self.dropped / captured,
            smoother=self.smoother,
            detector=self.pipeline.detector.name,
            raw_only=self.raw_only,
            paused=self.paused,
        )

    def show(self, captured: CapturedFrame) -> np.ndarray:
        """The view of one captured frame, each live track predicted to its capture time; recorded."""
        result = self.pipeline.predict(captured.index, captured.t)
        now = self.capture.now()
        self._last = (captured.frame, result, now)
        drawn = self.draw()
        self._record(drawn, captured.frame, result)
        self.shown_frames += 1
        self.shown_rate.tick(now)
        return drawn

    def take(self, analysed: Analysed) -> None:
        """A frame's result from analysis, in frame order, into the outputs and, when analysed, the view's trails."""
        result = analysed.result
        if analysed.latency_s is None:
            self.dropped += 1
        else:
            now = self.capture.now()
            self.view.add(result, now)
            self.last_latency_s = analysed.latency_s
            self.latency_total_s += self.last_latency_s
            self.processed += 1
            self.processed_rate.tick(now)
        # the stream first: a reader that went away ends the run at this frame, which the CSV then does not get
        # either, so that both end at the same whole frame (written after, the CSV had frames past a gap)
        if self.jsonl is not None:
            self.jsonl.write(result, self.pipeline.smoother)
        if self.csv is not None:
            self.csv.write_rows(frame_rows(result, {**dropped_cell(result), "smoother": self.smoother}))

    def draw(self) -> np.ndarray:
        """The view of the last shown frame, at the window's current size, in the current mode."""
        assert self._last is not None
        frame, result, now = self._last
        shown = self.view.render(frame, result, now, self.status(), self.window_size(), self.show_help, now < HINT_S)
        self.shown, self.shown_index = shown, result.index
        return shown

    def window_size(self) -> tuple[int, int] | None:
        """The size to draw at for the window's drawing area, which the user may have resized: its own, or for a
        window smaller than MIN_WINDOW the smallest size of its shape that is not (OpenCV scales it down evenly, where
        a default-size view would be squashed into it); None without a window, or one not shown (minimised)."""
        if not self.window:
            return None
        _, _, width, height = cv2.getWindowImageRect(WINDOW_NAME)
        if width < 1 or height < 1:
            return None
        scale = max(1.0, MIN_WINDOW[0] / width, MIN_WINDOW[1] / height)
        return round(width * scale), round(height * scale)

    def _record(self, drawn: np.ndarray, frame: np.ndarray, result: FrameResult) -> None:
        """Writes the view (and the bare annotated picture) once per captured frame since the last one, so the
        videos keep real time; the view's video keeps its first size (frames of a resized window are scaled)."""
        repeats = max(1, result.index - self.last_index)
        self.last_index = result.index
        if self.record_path is not None:
            if self.recorder is None:
                size = self.view.default_size((frame.shape[1], frame.shape[0]))
                self.recorder = AnnotatedVideoWriter(self.record_path, self.fps, size)
            for _ in range(repeats):
                self.recorder.write(drawn)
        if self.bare_record_path is not None:
            if self.bare_recorder is None:
                size = (frame.shape[1], frame.shape[0])
                self.bare_recorder = AnnotatedVideoWriter(self.bare_record_path, self.fps, size)
            bare = draw_result(frame.copy(), result)
            for _ in range(repeats):
                self.bare_recorder.write(bare)

    def handle_key(self, key: int) -> bool:
        """Acts on one key; False when the key asks to quit."""
        if key in QUIT_KEYS:
            self.quit = True
            return False
        if key in SMOOTHER_KEYS:
            try:
                smoothing.check_loadable(SMOOTHER_KEYS[key])
            except smoothing.ParamsError as error:  # the view goes on with the smoother it has
                print(f"cannot switch to {SMOOTHER_KEYS[key]}: {error}", file=sys.stderr, flush=True)
                return True
            self.pipeline.set_smoother(SMOOTHER_KEYS[key])
        elif key in RAW_KEYS:
            self.raw_only = not self.raw_only
            self.redraw()
        elif key == PAUSE_KEY:
            self.paused = not self.paused
            self.redraw()
        elif key in HELP_KEYS:
            self.show_help = not self.show_help
            self.redraw()
        elif key in FULLSCREEN_KEYS and self.window:
            self.fullscreen = not self.fullscreen
            mode = cv2.WINDOW_FULLSCREEN if self.fullscreen else cv2.WINDOW_NORMAL
            cv2.setWindowProperty(WINDOW_NAME, cv2.WND_PROP_FULLSCREEN, mode)
        elif key in SCREENSHOT_KEYS and self.shown is not None:
            self.save_screenshot()
        return True

    def redraw(self) -> None:
        """Draws the last frame again in the current mode, so a paused window shows what a key changed."""
        if self._last is None:
            return
        self.draw()
        if self.window:
            cv2.imshow(WINDOW_NAME, self.shown)

    def save_screenshot(self) -> Path | None:
        """The frame on screen as a PNG named after its capture number, beside (never over) the files there, the
        last session's screenshots among them; a screenshot that cannot be written is one line, and the run goes on."""
        assert self.shown is not None
        path = unused_path(self.out_dir / f"screenshot_{self.shown_index:06d}.png")
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            written = cv2.imwrite(str(path), self.shown)
        except (OSError, cv2.error) as error:
            written, reason = False, getattr(error, "strerror", None) or str(error).splitlines()[0]
        else:
            reason = "OpenCV could not write it (a read-only or full disk?)"
        if not written:
            print(f"warning: cannot write screenshot {path}: {reason}", file=sys.stderr, flush=True)
            return None
        self.screenshots.append(path)
        return path

    def _window_open(self) -> bool:
        key = typed_key(cv2.waitKeyEx(KEY_WAIT_MS))
        if key is not None and not self.handle_key(key):
            return False
        try:
            return cv2.getWindowProperty(WINDOW_NAME, cv2.WND_PROP_VISIBLE) >= 1
        except cv2.error:  # Qt drops the window's receiver once the window manager closed it: closed all the same
            return False

    def run(self) -> LiveSummary:
        """Until the source ends, q/Esc, the window closes, max_frames or Ctrl+C; outputs are closed in any case."""
        stopped_by = None
        ended = False
        if self.window:
            create_window()
        self.analysis = BackgroundAnalysis(self.pipeline, self.capture.now, self.max_frames)
        self.capture.start()
        self.analysis.start()
        try:
            while not self.quit and (self.max_frames is None or self.processed < self.max_frames):
                captured = self.capture.latest(FRAME_WAIT_S)
                if captured is None and self.capture.ended:
                    ended = True
                    break
                if captured is not None:  # and the frames the view fell behind on, if it did: each is shown
                    for frame in (*captured.skipped, replace(captured, skipped=())):
                        self._arrive(frame)
                for analysed in self.analysis.results():
                    self.take(analysed)
                if self.window and not self._window_open():
                    self.quit = True  # q, Esc, or the window closed
                    break
        except KeyboardInterrupt as stop:
            stopped_by = stop
        finally:
            self.analysis.stop(finish=ended)
            self.capture.stop()
            try:
                for analysed in self.analysis.results():  # the last ones, and the frames left waiting (dropped)
                    self.take(analysed)
            finally:
                self.close()
        return LiveSummary(
            captured=self.capture.captured,
            shown=self.shown_frames,
            processed=self.processed,
            dropped=self.dropped,
            elapsed_s=self.capture.now(),
            mean_latency_ms=self.latency_total_s / max(self.processed, 1) * MS_PER_S,
            screenshots=self.screenshots,
            stopped_by=stopped_by,
            quit=self.quit or (self.max_frames is not None and self.processed >= self.max_frames),
        )

    def _arrive(self, captured: CapturedFrame) -> None:
        """A captured frame: shown (in the window, and recorded) and offered to analysis, unless paused."""
        if self.paused:
            self.last_index = captured.index  # frames skipped while paused are neither drops nor video
            return
        if self.window and self.shown_frames == 0:
            cv2.resizeWindow(WINDOW_NAME, *self.view.default_size(captured.frame.shape[1::-1]))
        drawn = self.show(captured)
        assert self.analysis is not None
        self.analysis.offer(captured)
        if self.window:
            cv2.imshow(WINDOW_NAME, drawn)

    def close(self) -> None:
        if self.csv is not None:
            self.csv.close()
        for recorder in (self.recorder, self.bare_recorder):
            if recorder is not None:
                recorder.close()
        if self.window:
            cv2.destroyAllWindows()


def typed_key(code: int) -> int | None:
    """The character code of a key press (Esc is 27), or None for no key and for keys that type no character."""
    if code < 0:
        return None
    code &= KEY_CODE_BITS
    return code if code <= MAX_CHARACTER_CODE else None


def unused_path(path: Path) -> Path:
    """path, or NAME_2.EXT, NAME_3.EXT ... where it exists: several screenshots of one paused frame, or a folder
    that holds an earlier session's, each keep their own file."""
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.stem}_{number}{path.suffix}")
    return candidate


def create_window() -> None:
    """The live window: resizable, any aspect, without Qt's toolbar; run() sizes it to the view at the first frame."""
    cv2.namedWindow(WINDOW_NAME, cv2.WINDOW_NORMAL | cv2.WINDOW_FREERATIO | cv2.WINDOW_GUI_NORMAL)


def summary_lines(summary: LiveSummary) -> list[str]:
    """The closing report: how much was captured, shown, processed and dropped, and how fast."""
    share = summary.dropped / max(summary.captured, 1)
    fps = summary.processed / summary.elapsed_s if summary.elapsed_s > 0 else 0.0
    return [
        f"{summary.captured} frames captured in {summary.elapsed_s:.1f} s, {summary.shown} shown, "
        f"{summary.processed} processed "
        f"({fps:.1f} fps), {summary.dropped} dropped ({100 * share:.0f}%), "
        f"mean latency {summary.mean_latency_ms:.0f} ms",
        *(f"screenshot: {path}" for path in summary.screenshots),
    ]
