"""Drawing results onto frames (box, top label, probability) and writing the annotated video."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from app.engine.results import FrameResult
from app.errors import EXIT_USAGE, AppError
from app.output.colours import CLASS_COLOURS
from models.face_detector import Detection
from models.file_names import NOT_UTF8, opencv_takes, readable
from smoothing.labels import CLASSES

TEXT_COLOUR = (0, 0, 0)
FONT = cv2.FONT_HERSHEY_SIMPLEX
REFERENCE_HEIGHT = 480  # px; line widths and text are sized for this frame height and scaled for others
BOX_THICKNESS = 2
FONT_SCALE = 0.6
FONT_THICKNESS = 1
TEXT_PADDING = 4
VIDEO_FOURCC = "mp4v"  # available in every opencv-python build, unlike H.264
# Containers that hold an mp4v stream and read back (checked with OpenCV's own reader); OpenCV also "opens" a writer
# for .png or .jpg, and writes a bare stream no viewer plays.
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".avi", ".mkv")


def face_caption(probs: np.ndarray, track: int | None = None) -> tuple[int, str]:
    """(class index, 'happy 0.87' or 'happy 0.87 #2' with the track id) of a distribution."""
    index = int(np.argmax(probs))
    text = f"{CLASSES[index]} {probs[index]:.2f}"
    return index, text if track is None else f"{text} #{track}"


def zoom_of(frame: np.ndarray) -> float:
    """How much larger than REFERENCE_HEIGHT the frame is, so drawings keep their look at any resolution."""
    return max(frame.shape[0] / REFERENCE_HEIGHT, 0.5)


def draw_labelled_box(frame: np.ndarray, box: Detection, colour: tuple[int, int, int], text: str) -> None:
    """A box with its text on a filled tab above it (inside the top edge when there is no room above)."""
    zoom = zoom_of(frame)
    thickness = max(1, round(BOX_THICKNESS * zoom))
    font_scale, font_thickness = FONT_SCALE * zoom, max(1, round(FONT_THICKNESS * zoom))
    padding = max(1, round(TEXT_PADDING * zoom))
    cv2.rectangle(frame, (box.x, box.y), (box.x + box.w, box.y + box.h), colour, thickness)
    (text_w, text_h), baseline = cv2.getTextSize(text, FONT, font_scale, font_thickness)
    top = box.y - text_h - baseline - 2 * padding
    if top < 0:
        top = box.y
    cv2.rectangle(
        frame, (box.x, top), (box.x + text_w + 2 * padding, top + text_h + baseline + 2 * padding), colour, -1
    )
    cv2.putText(
        frame,
        text,
        (box.x + padding, top + padding + text_h),
        FONT,
        font_scale,
        TEXT_COLOUR,
        font_thickness,
        cv2.LINE_AA,
    )


def draw_result(frame: np.ndarray, result: FrameResult) -> np.ndarray:
    """Draws each face's box and 'label 0.87' above it, in place; returns the frame for chaining. When smoothing, the
    label is the smoothed one, with the track id ('happy 0.91 #2'), and each live track whose face the frame did not
    show is drawn at its last box with its predicted belief."""
    for face in result.shown_faces:
        track = face.track if face.belief is not None else None
        label_index, text = face_caption(face.shown_probs, track)
        draw_labelled_box(frame, face.detection, CLASS_COLOURS[label_index], text)
    return frame


class VideoOutputError(AppError):
    """The annotated video cannot be written; the message is one line for the user, wherever it is raised."""


def check_video_name(path: Path) -> None:
    """Refuses a video output whose ending no player reads back (a .png, .gif or none), before any work."""
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        endings = ", ".join(VIDEO_SUFFIXES)
        raise VideoOutputError(f"cannot write video {path}: its name must end in {endings}", EXIT_USAGE)
    if not opencv_takes(path):
        raise VideoOutputError(f"cannot write video {readable(path)}: {NOT_UTF8}", EXIT_USAGE)


class AnnotatedVideoWriter:
    """An MP4 of the drawn frames at the source's frame rate."""

    def __init__(self, path: str | Path, fps: float, size: tuple[int, int]) -> None:
        self.path = Path(path)
        check_video_name(self.path)
        self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*VIDEO_FOURCC), fps, size)
        if not self._writer.isOpened():
            raise VideoOutputError(
                f"cannot write video {self.path} (an unwritable path, an extension OpenCV cannot encode, or a frame "
                f"size its encoder refuses, {size[0]}x{size[1]}; use .mp4)"
            )
        self.size = size

    def write(self, frame: np.ndarray) -> None:
        """Writes one frame; grey or resized frames are converted, since VideoWriter silently drops mismatches."""
        if frame.ndim == 2:
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        if (frame.shape[1], frame.shape[0]) != self.size:
            frame = cv2.resize(frame, self.size)
        self._writer.write(frame)

    def close(self) -> None:
        self._writer.release()

    def __enter__(self) -> AnnotatedVideoWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
