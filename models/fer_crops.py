"""FER2013 faces re-framed the way the product frames a face in a video (YuNet's landmarks, then models.align): the
classifier then trains on the crops it will be shown, not only on FER2013's own framing.

Finding the landmarks takes about a minute per 10,000 faces, so the crops are cached under .cache/fer_crops, keyed
by the data file and every file that decides the framing.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np

from models.align import align_face
from models.data import save_npz_atomically
from models.face_detector import MODEL_FILE, NMS_IOU, Detection
from models.labels import FACE_SIZE

REPO = Path(__file__).resolve().parents[1]
CACHE_DIR = REPO / ".cache" / "fer_crops"
# FER2013 faces fill their 48x48 frame; YuNet needs some context around a face and a few more pixels.
FER_UPSCALE = 4
FER_BORDER = 64  # px of replicated border around the upscaled face
FER_SCORE_THRESHOLD = 0.3  # lower than the app's: every FER image is a face, a weak hit is still its landmarks
CROPS = ("fer", "aligned")  # FER2013's own framing; the product's, where YuNet found the landmarks
FRAMING_FILES = (MODEL_FILE, REPO / "models" / "align.py", Path(__file__))


def fer_detections(faces: np.ndarray) -> list[Detection | None]:
    """YuNet's strongest face on each FER2013 image, in the image's own 48x48 coordinates; None where none."""
    side = FACE_SIZE * FER_UPSCALE + 2 * FER_BORDER
    detector = cv2.FaceDetectorYN.create(str(MODEL_FILE), "", (side, side), FER_SCORE_THRESHOLD, NMS_IOU)
    out: list[Detection | None] = []
    for face in faces:
        big = cv2.resize(face, (FACE_SIZE * FER_UPSCALE,) * 2, interpolation=cv2.INTER_LINEAR)
        big = cv2.copyMakeBorder(big, *(FER_BORDER,) * 4, cv2.BORDER_REPLICATE)
        _, rows = detector.detect(cv2.cvtColor(big, cv2.COLOR_GRAY2BGR))
        if rows is None:
            out.append(None)
            continue
        row = rows[np.argmax(rows[:, 14])]
        x, y, w, h = ((row[:4] - (FER_BORDER, FER_BORDER, 0, 0)) / FER_UPSCALE).tolist()
        points = (row[4:14].reshape(5, 2) - FER_BORDER) / FER_UPSCALE
        out.append(Detection(round(x), round(y), round(w), round(h), float(row[14]), tuple(map(tuple, points))))
    return out


def aligned_faces(faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, 48, 48) uint8 crops as the product frames them, and which faces had landmarks (the others are returned
    unchanged)."""
    crops = faces.copy()
    found = np.zeros(len(faces), dtype=bool)
    for i, detection in enumerate(fer_detections(faces)):
        if detection is not None:
            crops[i], found[i] = align_face(faces[i], detection), True
    return crops, found


def _cache_key(data: Path, split: str) -> str:
    h = hashlib.sha256(f"{data.resolve()}:{data.stat().st_size}:{data.stat().st_mtime_ns}:{split}".encode())
    for path in FRAMING_FILES:
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def cached_aligned_faces(
    data: str | Path, split: str, faces: np.ndarray, cache_dir: Path | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """aligned_faces of one split of `data`, read from the cache (CACHE_DIR by default) when neither the data nor
    the framing changed."""
    cache_dir = CACHE_DIR if cache_dir is None else cache_dir
    cached = cache_dir / f"{split}-{_cache_key(Path(data), split)}.npz"
    if cached.is_file():
        with np.load(cached) as stored:
            if len(stored["crops"]) == len(faces):
                return stored["crops"], stored["found"]
    crops, found = aligned_faces(faces)
    save_npz_atomically(cached, crops=crops, found=found)
    return crops, found
