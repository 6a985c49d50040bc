"""Face crops for the classifier, aligned by the detector's 5 landmarks so that a face in a frame is framed the
way FER2013 frames its faces (upright, tight, eyes at a fixed height): the crops the CNN was trained on."""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from models.face_detector import Detection
from models.image import to_grey
from models.labels import FACE_SIZE

# Where FER2013 puts the 5 landmarks in its 48x48 faces: the median of YuNet's landmarks on PublicTest (faces upscaled
# 4x with a 64 px replicated border; landmarks found on 97.6% of the 3,589), mirrored about the vertical centre line so
# that a face and its mirror image align alike. Measured by `python -m models.training.framing --template`.
FER_TEMPLATE = np.array(
    [
        (14.8, 18.1),  # the subject's right eye (on the image's left)
        (32.2, 18.1),  # left eye
        (23.5, 28.5),  # nose tip
        (16.4, 35.8),  # right mouth corner
        (30.6, 35.8),  # left mouth corner
    ],
    dtype=np.float64,
)
FACE_CENTRE = (FACE_SIZE - 1) / 2.0
# How much larger than FER2013's the face is drawn (1.0: exactly FER2013's framing), chosen by raw accuracy of the
# shipped classifier (`python -m models.training.framing`, benchmarks/results/framing.json): real development clips
# 0.721 at 1.0, 0.765 at 1.1, 0.724 at 1.2 (box crop without alignment 0.705); PublicTest re-cropped 66.0%, 65.9%,
# 65.1%.
ZOOM = 1.1
MAX_SUPERSAMPLE = 4  # a face shrunk more than 4x is warped at up to 4x the crop size, then area-averaged down


def similarity(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The 2x3 rotation, uniform scale and shift that maps the source points closest to the target points (least
    squares): no shear, so a face keeps its proportions whatever its expression. In the plane this is Umeyama's (1991)
    solution in closed form: with points as complex numbers, the map z -> a z + b, a = sum(conj(s) t) / sum(|s|^2) over
    the centred points (the SVD route gave the same matrix, to 1e-12, at twice the cost per face per frame)."""
    source, target = np.asarray(source, np.float64), np.asarray(target, np.float64)
    s = source[:, 0] + 1j * source[:, 1]
    t = target[:, 0] + 1j * target[:, 1]
    s_centred, t_centred = s - s.mean(), t - t.mean()
    spread = float(np.vdot(s_centred, s_centred).real)
    if spread <= 0:
        raise ValueError("the landmarks coincide; no alignment is defined")
    a = np.vdot(s_centred, t_centred) / spread  # vdot conjugates its first argument
    b = t.mean() - a * s.mean()
    return np.array([[a.real, -a.imag, b.real], [a.imag, a.real, b.imag]])


def template(zoom: float = ZOOM) -> np.ndarray:
    """FER_TEMPLATE drawn `zoom` times larger about the crop's centre."""
    return FACE_CENTRE + zoom * (FER_TEMPLATE - FACE_CENTRE)


def box_matrix(detection: Detection) -> np.ndarray:
    """The 2x3 map of the detection's box onto the crop: for detections without landmarks."""
    sx, sy = FACE_SIZE / max(detection.w, 1), FACE_SIZE / max(detection.h, 1)
    return np.array([[sx, 0.0, -sx * detection.x], [0.0, sy, -sy * detection.y]])


def alignment_matrix(detection: Detection, zoom: float = ZOOM) -> np.ndarray:
    """Frame -> crop map: by the 5 landmarks when the detection has them, else by the box."""
    if len(detection.landmarks) != len(FER_TEMPLATE):
        return box_matrix(detection)
    return similarity(np.array(detection.landmarks), template(zoom))


def warp_to_crop(frame: np.ndarray, matrix: np.ndarray, size: int = FACE_SIZE) -> np.ndarray:
    """The (size, size) grey crop that `matrix` maps the frame to, area-averaged when the face is shrunk so that a
    large face does not alias into the small crop."""
    scale = math.sqrt(abs(np.linalg.det(matrix[:, :2])))
    factor = int(min(MAX_SUPERSAMPLE, max(1, math.ceil(1.0 / max(scale, 1e-6)))))
    warped = cv2.warpAffine(
        frame, matrix * factor, (size * factor, size * factor), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    if factor > 1:
        warped = cv2.resize(warped, (size, size), interpolation=cv2.INTER_AREA)
    return to_grey(warped)


def align_face(frame: np.ndarray, detection: Detection, zoom: float = ZOOM) -> np.ndarray:
    """The (48, 48) grey crop of one face that the classifier reads."""
    return warp_to_crop(frame, alignment_matrix(detection, zoom))


def align_faces(frame: np.ndarray, detections: Sequence[Detection]) -> np.ndarray:
    """(N, 48, 48) uint8: every face of a frame, ready for one classifier batch (N may be 0)."""
    crops = np.empty((len(detections), FACE_SIZE, FACE_SIZE), dtype=np.uint8)
    for i, detection in enumerate(detections):
        crops[i] = align_face(frame, detection)
    return crops
