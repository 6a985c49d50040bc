"""The benchmark's input clips: the bundled sample, and 640x480 clips with 1, 2 and 4 copies of its face, written
to real mp4 files so that decoding is measured as the app meets it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from app.engine.sources import SAMPLE_CLIP
from models.face_detector import FaceDetector

SYNTHETIC_SIZE = (640, 480)  # (width, height): the webcam size the targets are stated for
FACE_COUNTS = (1, 2, 4)
FACE_MARGIN = 0.3  # fraction of the face size kept on every side of the cut-out, so the detector sees a whole head
BACKGROUND_BLUR_SIGMA = 25.0  # px; the sample's room, blurred past any face-like detail
WINDOW_SAMPLE_EVERY = (
    6  # frames; the face window is found from every 6th frame (full searches, so every sampled frame is searched whole)
)
FRAME_OFFSET = 17  # face copy j shows sample frame i + j * FRAME_OFFSET, so the copies do not move in lock-step
SYNTHETIC_FOURCC = "mp4v"  # OpenCV's pip wheels write MPEG-4 part 2; H.264 (the sample's codec) is not built in
DEFAULT_FPS = 30.0


@dataclass(frozen=True)
class Clip:
    """One benchmark input: a video file and what it holds."""

    name: str
    path: Path
    size: tuple[int, int]  # (width, height)
    faces: int  # faces placed in every frame
    frames: int


def read_frames(path: Path) -> tuple[list[np.ndarray], float]:
    """Every frame of a video and its frame rate."""
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise FileNotFoundError(f"cannot open {path}")
    fps = capture.get(cv2.CAP_PROP_FPS) or DEFAULT_FPS
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    if not frames:
        raise ValueError(f"no decodable frame in {path}")
    return frames, float(fps)


def face_window(frames: list[np.ndarray], margin: float = FACE_MARGIN) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) holding the face in every sampled frame where it is found, grown by `margin` of its size."""
    detector = FaceDetector(full_detect_every=1)
    sampled = frames[::WINDOW_SAMPLE_EVERY]
    boxes = [(d.x, d.y, d.x + d.w, d.y + d.h) for frame in sampled for d in detector.detect(frame)[:1]]
    if not boxes:
        raise ValueError("no face found in the sample clip")
    x0, y0 = (int(v) for v in np.min(np.array(boxes)[:, :2], axis=0))
    x1, y1 = (int(v) for v in np.max(np.array(boxes)[:, 2:], axis=0))
    pad = round(margin * max(x1 - x0, y1 - y0))
    height, width = frames[0].shape[:2]
    return max(0, x0 - pad), max(0, y0 - pad), min(width, x1 + pad), min(height, y1 + pad)


def grid_cells(count: int, size: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """(x, y, w, h) of `count` equal cells filling the frame, as square a grid as possible (1, 2 side by side, 2x2)."""
    columns = math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    cell_w, cell_h = size[0] // columns, size[1] // rows
    return [((i % columns) * cell_w, (i // columns) * cell_h, cell_w, cell_h) for i in range(count)]


def background(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The sample's scene scaled to `size` and blurred, so the faces sit on a real room's colours, not on flat grey."""
    scaled = cv2.resize(frame, size, interpolation=cv2.INTER_LINEAR)
    return cv2.GaussianBlur(scaled, (0, 0), BACKGROUND_BLUR_SIGMA)


def compose_frame(backdrop: np.ndarray, patches: list[np.ndarray]) -> np.ndarray:
    """One patch per grid cell, scaled to fit its cell (never enlarged) and centred in it, over a copy of backdrop."""
    frame = backdrop.copy()
    height, width = frame.shape[:2]
    for patch, (x, y, w, h) in zip(patches, grid_cells(len(patches), (width, height)), strict=True):
        scale = min(w / patch.shape[1], h / patch.shape[0], 1.0)
        pw, ph = max(1, round(patch.shape[1] * scale)), max(1, round(patch.shape[0] * scale))
        resized = cv2.resize(patch, (pw, ph), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        px, py = x + (w - pw) // 2, y + (h - ph) // 2
        frame[py : py + ph, px : px + pw] = resized
    return frame


def write_video(frames: list[np.ndarray], fps: float, path: Path) -> None:
    """Encodes frames into an mp4; raises RuntimeError when OpenCV has no writer for it."""
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*SYNTHETIC_FOURCC), fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {SYNTHETIC_FOURCC} video to {path}")
    for frame in frames:
        writer.write(frame)
    writer.release()


def synthetic_clip(
    frames: list[np.ndarray], fps: float, window: tuple[int, int, int, int], faces: int, folder: Path
) -> Clip:
    """A SYNTHETIC_SIZE clip as long as `frames`, with `faces` copies of the `window` region, each at its own moment."""
    x0, y0, x1, y1 = window
    backdrop = background(frames[0], SYNTHETIC_SIZE)
    out = []
    for i in range(len(frames)):
        patches = [frames[(i + j * FRAME_OFFSET) % len(frames)][y0:y1, x0:x1] for j in range(faces)]
        out.append(compose_frame(backdrop, patches))
    path = folder / f"synthetic_{faces}face.mp4"
    write_video(out, fps, path)
    return Clip(f"640x480, {faces} face{'s' if faces > 1 else ''}", path, SYNTHETIC_SIZE, faces, len(out))


def benchmark_clips(folder: Path, sample: Path = SAMPLE_CLIP) -> list[Clip]:
    """The sample clip, then one synthetic clip per FACE_COUNTS entry, written into `folder`."""
    frames, fps = read_frames(sample)
    height, width = frames[0].shape[:2]
    clips = [Clip(f"sample {width}x{height}, 1 face", sample, (width, height), 1, len(frames))]
    window = face_window(frames)
    clips += [synthetic_clip(frames, fps, window, faces, folder) for faces in FACE_COUNTS]
    return clips
