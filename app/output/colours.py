"""One colour per emotion, shared by the annotated video, the live view and the timeline plots, so that a class
looks the same everywhere."""

from __future__ import annotations

BGR = tuple[int, int, int]

# BGR (OpenCV's order), in smoothing.labels.CLASSES order: angry, disgust, fear, happy, sad, surprise, neutral.
CLASS_COLOURS: tuple[BGR, ...] = (
    (40, 40, 230),
    (40, 140, 60),
    (160, 60, 160),
    (40, 210, 250),
    (200, 120, 40),
    (40, 160, 250),
    (200, 200, 200),
)


def rgb(bgr: BGR) -> tuple[float, float, float]:
    """An OpenCV colour as matplotlib's 0-1 RGB."""
    return bgr[2] / 255, bgr[1] / 255, bgr[0] / 255
