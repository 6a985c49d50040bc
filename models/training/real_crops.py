"""The real labelled clips' face crops, as the app cuts them (YuNet's biggest face per frame, aligned), cached once,
so that a candidate classifier is scored on real video in seconds: real faces are the judge of every choice of
recipe, epoch and prior. The clips judge; they never train the classifier.

The crops are cached under .cache/real_crops, keyed by the clip's bytes and the files that decide the framing.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models import align, face_detector
from models.align import align_face
from models.face_detector import MODEL_FILE, FaceDetector
from models.labels import FACE_SIZE
from models.roots import CACHE_ROOT, cache_key
from models.training.data import save_npz_atomically
from smoothing.fitting.real_sequences import (
    DEFAULT_REAL_DIR,
    UNSCORED,
    frame_labels,
    read_index,
    segments_of,
    short_source,
)
from smoothing.labels import NUM_CLASSES

CACHE_DIR = CACHE_ROOT / "real_crops"
PREDICT_BATCH = 512  # faces per classifier call: bounds memory, not results


@dataclass(frozen=True)
class RealCrops:
    """One labelled clip's frames as the classifier sees them: (T, 48, 48) crops (zeros where no face), whether a
    face was found, and the per-frame label (UNSCORED outside the segments)."""

    name: str
    kind: str
    source: str
    crops: np.ndarray
    has_face: np.ndarray
    labels: np.ndarray


def clip_crops(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The biggest face's aligned crop per frame, as app.engine.pipeline.Pipeline.process cuts it, and the frame
    times."""
    from app.engine.sources import VideoFileSource  # reading video the app's way (container times): only here

    detector = FaceDetector()
    crops, found, times = [], [], []
    for _, t, frame in VideoFileSource(path):
        detections = detector.detect(frame)
        times.append(t)
        found.append(bool(detections))
        if detections:
            crops.append(align_face(frame, max(detections, key=lambda d: d.w * d.h)))
        else:
            crops.append(np.zeros((FACE_SIZE, FACE_SIZE), dtype=np.uint8))
    return np.array(crops, dtype=np.uint8), np.array(found), np.array(times, dtype=np.float64)


def _cache_key(path: Path) -> str:
    return cache_key((face_detector, align, sys.modules[__name__]), (MODEL_FILE, path))


def load_real_crops(real_dir: Path = DEFAULT_REAL_DIR, cache_dir: Path | None = None, progress=None) -> list[RealCrops]:
    """Every labelled clip of the folder (clips without labels say nothing about accuracy), cached (in CACHE_DIR by
    default)."""
    cache_dir = CACHE_DIR if cache_dir is None else cache_dir
    index = read_index(Path(real_dir))
    items = [(name, entry) for name, entry in index.items() if entry.get("segments")]
    out = []
    for name, entry in progress(items) if progress else items:
        path = Path(real_dir) / name
        cached = cache_dir / f"{path.stem}-{_cache_key(path)}.npz"
        if cached.is_file():
            with np.load(cached) as stored:
                crops, found, t = stored["crops"], stored["found"], stored["t"]
        else:
            crops, found, t = clip_crops(path)
            save_npz_atomically(cached, crops=crops, found=found, t=t)
        labels = frame_labels(t, segments_of(entry))
        out.append(RealCrops(name, entry["kind"], short_source(entry["source"]), crops, found, labels))
    return out


def clip_logits(logits_of: Callable[[np.ndarray], np.ndarray], clips: list[RealCrops]) -> list[np.ndarray]:
    """(T, 7) logits per clip of the frames with a face (NaN rows elsewhere), PREDICT_BATCH faces at a time."""
    out = []
    for clip in clips:
        logits = np.full((len(clip.crops), NUM_CLASSES), np.nan)
        faces = clip.crops[clip.has_face]
        if len(faces):
            logits[clip.has_face] = np.concatenate(
                [logits_of(faces[i : i + PREDICT_BATCH]) for i in range(0, len(faces), PREDICT_BATCH)]
            )
        out.append(logits)
    return out


def scored_frames(clips: list[RealCrops], logits: list[np.ndarray], bias: np.ndarray | None = None):
    """(labels, predicted, kind, source) of every labelled frame; a frame without a face counts as wrong (-1), as it
    is for a user: nothing was read."""
    bias = np.zeros(NUM_CLASSES) if bias is None else bias
    labels, predicted, kinds, sources = [], [], [], []
    for clip, z in zip(clips, logits, strict=True):
        scored = clip.labels != UNSCORED
        guess = np.where(clip.has_face, np.nan_to_num(z + bias, nan=-np.inf).argmax(axis=1), -1)
        labels.append(clip.labels[scored])
        predicted.append(guess[scored])
        kinds += [clip.kind] * int(scored.sum())
        sources += [clip.source] * int(scored.sum())
    return np.concatenate(labels), np.concatenate(predicted), np.array(kinds), np.array(sources)


def raw_accuracy(clips: list[RealCrops], logits: list[np.ndarray], bias: np.ndarray | None = None) -> dict:
    """Raw-label accuracy over all labelled frames, per kind and per source."""
    labels, predicted, kinds, sources = scored_frames(clips, logits, bias)
    right = labels == predicted
    out = {"all labelled": float(right.mean()), "frames": len(right)}
    out |= {str(kind): float(right[kinds == kind].mean()) for kind in sorted(set(kinds))}
    out |= {f"source {source}": float(right[sources == source].mean()) for source in sorted(set(sources))}
    return out
