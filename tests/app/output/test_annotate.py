"""The annotated video's drawing: the box takes the colour of the label shown, the smoothed one when smoothing."""

from __future__ import annotations

import numpy as np

from app.engine.results import FaceResult, FrameResult
from app.output.annotate import draw_result
from app.output.colours import CLASS_COLOURS
from models.face_detector import Detection
from smoothing.labels import CLASSES

HAPPY, SAD = CLASSES.index("happy"), CLASSES.index("sad")
BOX = Detection(100, 100, 120, 120, 0.9)


def box_edge_colour(frame: np.ndarray) -> tuple[int, ...]:
    return tuple(int(v) for v in frame[BOX.y + BOX.h // 2, BOX.x])  # middle of the left edge


def test_raw_label_without_smoothing_and_smoothed_label_with_it() -> None:
    raw = np.full(7, 0.01)
    raw[HAPPY] = 0.94
    belief = np.full(7, 0.05)
    belief[SAD] = 0.7
    face = FaceResult(BOX, raw)
    result = FrameResult(0, 0.0, [face])
    blank = np.zeros((360, 640, 3), np.uint8)
    assert box_edge_colour(draw_result(blank.copy(), result)) == CLASS_COLOURS[HAPPY]
    smoothed = draw_result(blank.copy(), FrameResult(0, 0.0, [FaceResult(BOX, raw, 0, belief)]))
    assert box_edge_colour(smoothed) == CLASS_COLOURS[SAD]
    unsmoothed_track = draw_result(blank.copy(), FrameResult(0, 0.0, [FaceResult(BOX, raw, 0, None)]))
    assert box_edge_colour(unsmoothed_track) == CLASS_COLOURS[HAPPY]
