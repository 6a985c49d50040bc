"""The live overlay: per face a box with the smoothed label, raw-beside-smoothed bars and a 10 s emotion strip,
plus one status line (camera fps, processed fps, latency, dropped share, smoother), so flicker and lag are visible."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from app.annotate import FONT, draw_labelled_box, face_caption, zoom_of
from app.colours import CLASS_COLOURS
from app.results import FaceResult
from smoothing.labels import CLASSES

HISTORY_S = 10.0  # the strip shows this many seconds of each face's smoothed emotion
PANEL_WIDTH = 160  # px at the reference height: class name, then the raw and smoothed bars
ROW_HEIGHT = 16  # px per class in the bar panel
NAME_WIDTH = 66  # px for the class name before the bars
STRIP_HEIGHT = 14  # px per face in the strip at the bottom
STATUS_HEIGHT = 22  # px of the status line at the top
SMALL_FONT_SCALE = 0.42
MARGIN = 4  # px between the box and its panel, and around texts
PANEL_ALPHA = 0.65  # opacity of the dark backgrounds under the panel, strip and status line
BACKGROUND_GREY = 30  # of the backgrounds: one level for all three channels, so that the blend is one scalar op
LIGHT_TEXT = (240, 240, 240)
RAW_BAR_COLOUR = (255, 255, 255)  # white: apart from every class colour, neutral's light grey included


@dataclass(frozen=True)
class Status:
    """What the status line reports."""

    camera_fps: float
    processed_fps: float
    latency_ms: float
    dropped_share: float  # 0..1 of the frames captured
    smoother: str
    raw_only: bool = False
    paused: bool = False

    def text(self) -> str:
        mode = " (raw only)" if self.raw_only else ""
        paused = " | PAUSED" if self.paused else ""
        return (
            f"camera {self.camera_fps:.1f} fps | processed {self.processed_fps:.1f} fps | "
            f"latency {self.latency_ms:.0f} ms | dropped {100 * self.dropped_share:.0f}% | "
            f"smoother {self.smoother}{mode}{paused}"
        )


class EmotionHistory:
    """Each track's shown class over the last HISTORY_S seconds, for the strip."""

    def __init__(self, span_s: float = HISTORY_S) -> None:
        self.span_s = span_s
        self.tracks: dict[int, deque[tuple[float, int]]] = {}

    def add(self, track: int, t: float, label_index: int) -> None:
        self.tracks.setdefault(track, deque()).append((t, label_index))

    def prune(self, now: float) -> None:
        """Forgets what is older than the span, and tracks with nothing left."""
        for track in list(self.tracks):
            samples = self.tracks[track]
            while samples and now - samples[0][0] > self.span_s:
                samples.popleft()
            if not samples:
                del self.tracks[track]


def shade(frame: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> None:
    """Darkens a rectangle (clipped to the frame) so that text and bars on it read on any background."""
    height, width = frame.shape[:2]
    x0, x1 = max(0, x0), min(width, x1)
    y0, y1 = max(0, y0), min(height, y1)
    if x1 <= x0 or y1 <= y0:
        return
    region = frame[y0:y1, x0:x1]
    region[:] = cv2.convertScaleAbs(region, alpha=1 - PANEL_ALPHA, beta=PANEL_ALPHA * BACKGROUND_GREY)


def draw_bars(frame: np.ndarray, face: FaceResult, raw_only: bool) -> None:
    """Seven rows beside the box: raw probability (white) over the smoothed one (class colour)."""
    zoom = zoom_of(frame)
    width, row, name_w, margin = (round(v * zoom) for v in (PANEL_WIDTH, ROW_HEIGHT, NAME_WIDTH, MARGIN))
    box = face.detection
    x0 = box.x + box.w + margin
    if x0 + width > frame.shape[1]:  # no room on the right: the left side
        x0 = max(0, box.x - margin - width)
    y0 = max(0, box.y)
    shade(frame, x0, y0, x0 + width, y0 + row * len(CLASSES))
    bar_w = width - name_w - margin
    font_scale = SMALL_FONT_SCALE * zoom
    for index, name in enumerate(CLASSES):
        top = y0 + index * row
        cv2.putText(frame, name, (x0 + margin, top + row - margin), FONT, font_scale, LIGHT_TEXT, 1, cv2.LINE_AA)
        bar_x = x0 + name_w
        raw_len = round(bar_w * float(face.probs[index]))
        if face.belief is None or raw_only:  # raw only: the raw bar takes the whole row, in the class colour
            cv2.rectangle(frame, (bar_x, top + 2), (bar_x + raw_len, top + row - 2), CLASS_COLOURS[index], -1)
            continue
        half = row // 2
        smooth_len = round(bar_w * float(face.belief[index]))
        cv2.rectangle(frame, (bar_x, top + 2), (bar_x + raw_len, top + half - 2), RAW_BAR_COLOUR, -1)
        cv2.rectangle(frame, (bar_x, top + half), (bar_x + smooth_len, top + row - 2), CLASS_COLOURS[index], -1)


def label_runs(samples: Sequence[tuple[float, int]]) -> list[tuple[float, int]]:
    """The (start time, class) of each run of one class: one rectangle per run instead of one per frame (a 10 s
    strip of a 30 fps stream is 300 frames and, for a steady face, one run)."""
    runs: list[tuple[float, int]] = []
    for t, label in samples:
        if not runs or runs[-1][1] != label:
            runs.append((t, label))
    return runs


def draw_strip(frame: np.ndarray, history: EmotionHistory, now: float) -> None:
    """One strip per track along the bottom: the shown class over the last HISTORY_S seconds, newest on the right."""
    zoom = zoom_of(frame)
    strip, margin = round(STRIP_HEIGHT * zoom), round(MARGIN * zoom)
    height, width = frame.shape[:2]
    label_w = round(NAME_WIDTH * zoom / 2)
    scale = (width - label_w) / history.span_s
    for number, (track, samples) in enumerate(sorted(history.tracks.items())):
        y1 = height - number * (strip + margin)
        y0 = y1 - strip
        shade(frame, 0, y0, width, y1)
        cv2.putText(
            frame, f"#{track}", (margin, y1 - margin), FONT, SMALL_FONT_SCALE * zoom, LIGHT_TEXT, 1, cv2.LINE_AA
        )
        runs = label_runs(samples)
        for (t, label), (t_next, _) in zip(runs, [*runs[1:], (now, -1)], strict=True):
            x_start = max(label_w, round(width - (now - t) * scale))
            x_end = max(label_w, round(width - (now - t_next) * scale))
            cv2.rectangle(frame, (x_start, y0 + 1), (x_end, y1 - 1), CLASS_COLOURS[label], -1)


def draw_status(frame: np.ndarray, status: Status) -> None:
    """The status line across the top."""
    zoom = zoom_of(frame)
    line, margin = round(STATUS_HEIGHT * zoom), round(MARGIN * zoom)
    shade(frame, 0, 0, frame.shape[1], line)
    cv2.putText(
        frame, status.text(), (margin, line - 2 * margin), FONT, SMALL_FONT_SCALE * zoom, LIGHT_TEXT, 1, cv2.LINE_AA
    )


def draw_overlay(
    frame: np.ndarray,
    faces: Sequence[FaceResult],
    history: EmotionHistory,
    now: float,
    status: Status,
) -> np.ndarray:
    """Everything the live window shows, drawn in place; returns the frame."""
    raw_only = status.raw_only
    for face in faces:
        probs = face.probs if raw_only else face.shown_probs
        label_index, text = face_caption(probs, face.track)
        draw_labelled_box(frame, face.detection, CLASS_COLOURS[label_index], text)
        draw_bars(frame, face, raw_only)
    if not raw_only:
        draw_strip(frame, history, now)
    draw_status(frame, status)
    return frame
