"""The overlay: box, bars beside it, emotion strip and status line; raw only hides the smoothing."""

from __future__ import annotations

import numpy as np

from app.overlay import BACKGROUND_GREY, PANEL_ALPHA, EmotionHistory, Status, draw_overlay, label_runs, shade
from app.results import FaceResult
from models.face_detector import Detection
from smoothing.labels import CLASSES

HEIGHT, WIDTH = 360, 640
BOX = Detection(100, 100, 120, 120, 0.9)
HAPPY, NEUTRAL = CLASSES.index("happy"), CLASSES.index("neutral")
STATUS = Status(camera_fps=30.0, processed_fps=12.5, latency_ms=80.0, dropped_share=0.58, smoother="hmm")


def tracked_face() -> FaceResult:
    raw = np.full(7, 0.02)
    raw[HAPPY] = 0.88
    belief = np.full(7, 0.05)
    belief[NEUTRAL] = 0.7
    return FaceResult(BOX, raw, 3, belief)


def history() -> EmotionHistory:
    emotions = EmotionHistory()
    for step in range(20):
        emotions.add(3, step * 0.5, NEUTRAL if step < 10 else HAPPY)
    return emotions


def changed(before: np.ndarray, after: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> bool:
    return bool(np.any(before[y0:y1, x0:x1] != after[y0:y1, x0:x1]))


def test_status_line_reports_rates_latency_drops_and_smoother() -> None:
    assert STATUS.text() == "camera 30.0 fps | processed 12.5 fps | latency 80 ms | dropped 58% | smoother hmm"


def test_overlay_draws_box_bars_strip_and_status() -> None:
    frame = np.full((HEIGHT, WIDTH, 3), 90, np.uint8)
    drawn = draw_overlay(frame.copy(), [tracked_face()], history(), now=10.0, status=STATUS)
    right = BOX.x + BOX.w
    assert changed(frame, drawn, BOX.x, BOX.y, BOX.x + 2, BOX.y + BOX.h)  # box edge
    assert changed(frame, drawn, right + 10, BOX.y, right + 150, BOX.y + 100)  # bars beside the box
    assert changed(frame, drawn, 0, HEIGHT - 10, WIDTH, HEIGHT)  # strip along the bottom
    assert changed(frame, drawn, 0, 0, WIDTH, 15)  # status line
    assert not changed(frame, drawn, 400, 150, 600, 300)  # the rest of the picture is left alone


def test_raw_only_hides_the_strip_and_the_smoothed_bars() -> None:
    frame = np.full((HEIGHT, WIDTH, 3), 90, np.uint8)
    smoothed = draw_overlay(frame.copy(), [tracked_face()], history(), 10.0, STATUS)
    raw_status = Status(30.0, 12.5, 80.0, 0.58, "hmm", raw_only=True)
    raw = draw_overlay(frame.copy(), [tracked_face()], history(), 10.0, raw_status)
    assert not changed(frame, raw, 0, HEIGHT - 10, WIDTH, HEIGHT)
    assert changed(smoothed, raw, BOX.x + BOX.w, BOX.y, WIDTH, BOX.y + BOX.h)
    assert "(raw only)" in raw_status.text()


def test_history_forgets_what_is_older_than_its_span() -> None:
    emotions = history()
    emotions.prune(now=15.0)
    assert [t for t, _ in emotions.tracks[3]] == [5.0 + 0.5 * step for step in range(10)]
    emotions.prune(now=100.0)
    assert emotions.tracks == {}


def test_the_strip_draws_one_rectangle_per_run_of_one_class() -> None:
    samples = [(0.0, NEUTRAL), (0.5, NEUTRAL), (1.0, HAPPY), (1.5, HAPPY), (2.0, NEUTRAL)]
    assert label_runs(samples) == [(0.0, NEUTRAL), (1.0, HAPPY), (2.0, NEUTRAL)]
    assert label_runs([]) == []


def test_shading_blends_toward_the_background_inside_the_rectangle_only() -> None:
    frame = np.full((20, 30, 3), 200, np.uint8)
    shade(frame, 10, -5, 40, 10)  # clipped to the frame
    expected = round((1 - PANEL_ALPHA) * 200 + PANEL_ALPHA * BACKGROUND_GREY)
    assert np.all(frame[:10, 10:] == expected)
    assert np.all(frame[10:] == 200) and np.all(frame[:, :10] == 200)
