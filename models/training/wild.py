"""In-the-wild face stills (`../shared/data/wild`: NHFI, SFEW film stills, LFW-style news faces) framed the way the
app frames a face in a video, with a held-out part split by group (person, film or image), so that the classifier
learns real photos and is checked on people and films it never saw.

Finding the landmarks takes about a minute per 5,000 stills, so the crops are cached under .cache/wild, keyed by the
labels file and every file that decides the framing.
"""

from __future__ import annotations

import csv
import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from models import align
from models.align import align_face
from models.face_detector import MODEL_FILE
from models.labels import FACE_SIZE
from models.roots import CACHE_ROOT, SHARED_DATA, cache_key
from models.training import stills
from models.training.data import save_npz_atomically
from models.training.stills import still_detection, still_detector
from smoothing.labels import CLASSES

DEFAULT_WILD = SHARED_DATA / "wild"
CACHE_DIR = CACHE_ROOT / "wild"
LABELS_FILE = "labels.csv"
SETS: tuple[str, ...] = ("nhfi", "sfew", "lfw-expr")
# Share of each set's groups held out (never trained on): enough faces per class to read a recall, and split by
# group so that one person or one film is never on both sides.
HELD_OUT_SHARE = 0.15
SPLIT_SALT = "emosmooth-wild-v1"  # changes the split only if changed: the held-out part must stay fixed
# Where YuNet finds no face, the still's centre is used: LFW-style photos hold the face in the centre ~40% (the
# data's README), NHFI and SFEW stills are the face.
FALLBACK_CENTRE = {"lfw-expr": 0.5, "nhfi": 1.0, "sfew": 1.0}


@dataclass(frozen=True)
class WildFaces:
    """The stills as the app would crop them: (N, 48, 48) uint8 faces, class indices, set names, groups, whether
    YuNet found the face (else the centre fallback), and which are held out."""

    faces: np.ndarray
    labels: np.ndarray
    sets: np.ndarray
    groups: np.ndarray
    found: np.ndarray
    held_out: np.ndarray

    def part(self, mask: np.ndarray) -> WildFaces:
        return WildFaces(*(getattr(self, name)[mask] for name in self.__dataclass_fields__))


LABEL_COLUMNS = ("file", "label", "set", "group")


def read_labels(wild_dir: Path) -> list[dict[str, str]]:
    """labels.csv's rows (file, label, set, group), checked against our class names."""
    path = Path(wild_dir) / LABELS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no {LABELS_FILE} in {wild_dir} (see ../shared/data/wild/README.md)")
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        missing = [column for column in LABEL_COLUMNS if column not in (reader.fieldnames or ())]
    if missing or not rows:
        raise ValueError(f"{path} must have the columns {', '.join(LABEL_COLUMNS)} and at least one row")
    for row in rows:
        if row.get("label") not in CLASSES or row.get("set") not in SETS:
            raise ValueError(f"{path}: row {row} has an unknown label or set")
    return rows


def is_held_out(set_name: str, group: str) -> bool:
    """A fixed, group-wise split: the same person or film is always on the same side."""
    digest = hashlib.sha256(f"{SPLIT_SALT}:{set_name}:{group}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < HELD_OUT_SHARE


def centre_crop(grey: np.ndarray, share: float) -> np.ndarray:
    height, width = grey.shape
    h, w = max(1, round(height * share)), max(1, round(width * share))
    top, left = (height - h) // 2, (width - w) // 2
    return cv2.resize(grey[top : top + h, left : left + w], (FACE_SIZE, FACE_SIZE), interpolation=cv2.INTER_AREA)


def frame_stills(wild_dir: Path, rows: list[dict[str, str]]) -> tuple[np.ndarray, np.ndarray]:
    """(N, 48, 48) crops as the app frames faces, and which of them YuNet found (the rest: centre fallback)."""
    detector = still_detector()
    crops = np.empty((len(rows), FACE_SIZE, FACE_SIZE), dtype=np.uint8)
    found = np.zeros(len(rows), dtype=bool)
    for i, row in enumerate(rows):
        grey = cv2.imread(str(Path(wild_dir) / row["file"]), cv2.IMREAD_GRAYSCALE)
        if grey is None:
            raise ValueError(f"cannot read {row['file']} in {wild_dir}")
        detection = still_detection(detector, grey)
        if detection is None:
            crops[i] = centre_crop(grey, FALLBACK_CENTRE[row["set"]])
        else:
            crops[i], found[i] = align_face(grey, detection), True
    return crops, found


def _cache_key(wild_dir: Path) -> str:
    return cache_key((align, stills, sys.modules[__name__]), (MODEL_FILE, Path(wild_dir) / LABELS_FILE))


def load_wild(wild_dir: str | Path = DEFAULT_WILD, cache_dir: Path | None = None) -> WildFaces:
    """Every still, framed (cached, in CACHE_DIR by default) and split into training and held-out parts."""
    wild_dir = Path(wild_dir)
    cache_dir = CACHE_DIR if cache_dir is None else cache_dir
    rows = read_labels(wild_dir)
    cached = cache_dir / f"wild-{_cache_key(wild_dir)}.npz"
    if cached.is_file():
        with np.load(cached) as stored:
            crops, found = stored["crops"], stored["found"]
    else:
        crops, found = frame_stills(wild_dir, rows)
        save_npz_atomically(cached, crops=crops, found=found)
    return WildFaces(
        faces=crops,
        labels=np.array([CLASSES.index(row["label"]) for row in rows], dtype=np.int64),
        sets=np.array([row["set"] for row in rows]),
        groups=np.array([row["group"] for row in rows]),
        found=found,
        held_out=np.array([is_held_out(row["set"], row["group"]) for row in rows]),
    )
