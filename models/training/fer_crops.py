"""FER2013 faces re-framed the way the product frames a face in a video (YuNet's landmarks, then models.align): the
classifier then trains on the crops it will be shown, not only on FER2013's own framing.

Finding the landmarks takes about a minute per 10,000 faces, so the crops are cached under .cache/fer_crops, keyed
by the data file and every file that decides the framing.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from models import align
from models.align import align_face
from models.face_detector import MODEL_FILE, Detection
from models.roots import CACHE_ROOT, cache_key
from models.training import stills
from models.training.data import save_npz_atomically
from models.training.stills import still_detection, still_detector

CACHE_DIR = CACHE_ROOT / "fer_crops"
CROPS = ("fer", "aligned")  # FER2013's own framing; the product's, where YuNet found the landmarks


def fer_detections(faces: np.ndarray) -> list[Detection | None]:
    """YuNet's strongest face on each FER2013 image, in the image's own 48x48 coordinates; None where none."""
    detector = still_detector()
    return [still_detection(detector, face) for face in faces]


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
    salt = f"{data.resolve()}:{data.stat().st_size}:{data.stat().st_mtime_ns}:{split}"
    return cache_key((align, stills, sys.modules[__name__]), (MODEL_FILE,), salt)


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
