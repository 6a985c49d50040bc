"""The annotated video's drawing: the box takes the colour of the label shown, the smoothed one when smoothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.engine.results import FaceResult, FrameResult
from app.output.annotate import AnnotatedVideoWriter, VideoOutputError, draw_result
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


@pytest.mark.parametrize("name", ["v.png", "v.jpg", "v.gif", "v"])
def test_a_video_name_no_player_would_open_is_refused(tmp_path: Path, name: str) -> None:
    """OpenCV opens a writer for .png and writes a bare stream nothing plays; only containers that read back pass."""
    with pytest.raises(VideoOutputError, match="its name must end in .mp4"):
        AnnotatedVideoWriter(tmp_path / name, 30.0, (64, 48))
    assert not (tmp_path / name).exists()
