"""Real labelled clips (`../shared/data/real` layout) run once through the product's per-frame path, cached.

The raw per-frame output of the biggest face is cached under `.cache/real/`, keyed by the clip's bytes and by the
files that decide the output (classifier weights, detector code and model, crop code), so smoother work re-runs in
seconds and a new classifier or detector is never scored with stale outputs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.engine import pipeline
from app.engine.pipeline import Pipeline
from app.engine.sources import VideoFileSource
from app.engine.weights import load_weights
from models import align, boxes, classifier, face_detector, image, int8, network
from models.classifier import DEFAULT_WEIGHTS
from models.face_detector import MODEL_FILE
from models.roots import CACHE_ROOT, SHARED_DATA, cache_key, content_digest
from models.training.data import save_npz_atomically
from smoothing.fitting.sequences import Sequences
from smoothing.fitting.synthetic import steady_stream
from smoothing.labels import CLASSES, NUM_CLASSES

DEFAULT_REAL_DIR = SHARED_DATA / "real"
LABELS_FILE = "labels.json"
CACHE_DIR = CACHE_ROOT / "real"
CLIP_KEY_CHARS = 12  # of the clip's sha256 in its cache file's name
CACHE_VERSION = 1
UNSCORED = -1  # label of a frame outside every labelled segment (transitions, ambiguity, flicker clips)
SEGMENT_EDGE_S = 1e-6  # container times are rounded to the microsecond; a frame on a segment's edge belongs to it
KINDS: tuple[str, ...] = ("onset", "acted", "by-eye", "flicker")
# What decides the pipeline's output for a frame; a change to any of it re-runs the clips.
PIPELINE_MODULES = (pipeline, face_detector, align, boxes, classifier, int8, network, image)
PIPELINE_FILES = (DEFAULT_WEIGHTS, MODEL_FILE)


@dataclass(frozen=True)
class RealClip:
    """One clip as the product saw it: raw (T, 7) probabilities of the biggest face (NaN rows without one),
    container times, and the per-frame label index (UNSCORED outside the labelled segments)."""

    name: str
    kind: str
    source: str  # the data set it comes from, e.g. "CK+", "MEAD": the unit of leave-one-source-out fits
    probs: np.ndarray
    t: np.ndarray
    labels: np.ndarray
    segments: tuple[tuple[float, float, int], ...]

    @property
    def has_face(self) -> np.ndarray:
        return ~np.isnan(self.probs[:, 0])

    @property
    def duration_s(self) -> float:
        return float(self.t[-1] - self.t[0]) if len(self.t) > 1 else 0.0


class RealDataError(ValueError):
    """The real-clip folder is missing or not in the expected layout; the message is one line."""


def read_index(data_dir: Path) -> dict[str, dict]:
    """labels.json's clips, checked: every clip names its kind and source, its video file exists and its segments
    are (start s, end s, class) with finite times, start before end."""
    index_path = data_dir / LABELS_FILE
    if not index_path.is_file():
        raise RealDataError(f"no {LABELS_FILE} in {data_dir} (see ../shared/data/README.md for the layout)")
    try:
        clips = json.loads(index_path.read_text())["clips"]
    except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError) as error:
        raise RealDataError(f"{index_path} is not a clip index: {error}") from None
    if not isinstance(clips, dict):
        raise RealDataError(f"{index_path}: 'clips' must map each clip's file name to its entry")
    for name, entry in clips.items():
        if not isinstance(entry, dict):
            raise RealDataError(f"{index_path}: clip {name}'s entry is not an object with kind, source and segments")
        if entry.get("kind") not in KINDS:
            raise RealDataError(f"{index_path}: clip {name} has kind {entry.get('kind')!r}, not one of {KINDS}")
        if not isinstance(entry.get("source"), str) or not entry["source"].strip():
            raise RealDataError(f"{index_path}: clip {name} names no source (the data set it comes from)")
        if not (data_dir / name).is_file():
            raise RealDataError(f"{index_path} names {name}, which is not in {data_dir}")
        segments = entry.get("segments", [])
        if not isinstance(segments, list):
            raise RealDataError(f"{index_path}: clip {name}'s segments are not a list")
        for segment in segments:
            if not segment_ok(segment):
                raise RealDataError(
                    f"{index_path}: clip {name} has a bad segment {segment!r} (expected [start s, end s, class], "
                    f"start before end, the class one of {', '.join(CLASSES)})"
                )
    return clips


def segment_ok(segment: object) -> bool:
    """Whether a labels.json segment is [start s, end s, class] with finite times, start before end."""
    if not isinstance(segment, list | tuple) or len(segment) != 3 or segment[2] not in CLASSES:
        return False
    start, end = segment[0], segment[1]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (start, end)):
        return False
    return bool(np.isfinite(start) and np.isfinite(end) and start < end)


def short_source(source: str) -> str:
    """'CK+ (research use)' -> 'CK+': the licence note is not part of the name."""
    return source.split(" (")[0].strip()


def segments_of(entry: dict) -> tuple[tuple[float, float, int], ...]:
    """A labels.json clip entry's segments as (start s, end s, class index)."""
    return tuple((float(a), float(b), CLASSES.index(label)) for a, b, label in entry.get("segments", []))


def frame_labels(t: np.ndarray, segments: tuple[tuple[float, float, int], ...]) -> np.ndarray:
    """The label index of each frame whose time lies inside a segment, UNSCORED elsewhere."""
    labels = np.full(len(t), UNSCORED, dtype=np.int64)
    for start, end, label in segments:
        labels[(t >= start - SEGMENT_EDGE_S) & (t <= end + SEGMENT_EDGE_S)] = label
    return labels


def pipeline_fingerprint() -> str:
    """A hash of everything that decides the per-frame output, including the detector's model file."""
    return cache_key(PIPELINE_MODULES, PIPELINE_FILES)


def biggest_face_stream(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(T, 7) raw probabilities of the biggest face in each frame (NaN rows without a face) and container times,
    from the product's own per-frame path."""
    pipeline = Pipeline(load_weights(None))
    rows, times = [], []
    for result, _ in pipeline.run(VideoFileSource(path)):
        times.append(result.t)
        if result.faces:
            main = max(result.faces, key=lambda face: face.detection.w * face.detection.h)
            rows.append(main.probs)
        else:
            rows.append(np.full(NUM_CLASSES, np.nan))
    return np.array(rows, dtype=np.float64).reshape(-1, NUM_CLASSES), np.array(times, dtype=np.float64)


def cached_stream(path: Path, fingerprint: str, cache_dir: Path = CACHE_DIR) -> tuple[np.ndarray, np.ndarray]:
    """biggest_face_stream, read from the cache when the clip and the pipeline files are unchanged."""
    key = f"{path.stem}-{content_digest([path])[:CLIP_KEY_CHARS]}-{fingerprint}-v{CACHE_VERSION}.npz"
    cached = cache_dir / key
    if cached.is_file():
        with np.load(cached) as data:
            return data["probs"], data["t"]
    probs, t = biggest_face_stream(path)
    save_npz_atomically(cached, probs=probs, t=t)
    return probs, t


def load_real_clips(
    data_dir: Path = DEFAULT_REAL_DIR, names: list[str] | None = None, cache_dir: Path = CACHE_DIR, progress=None
) -> list[RealClip]:
    """Every clip of the folder (or the named ones), in index order, with cached raw outputs."""
    clips = read_index(Path(data_dir))
    if names is not None:
        missing = [name for name in names if name not in clips]
        if missing:
            raise RealDataError(f"not in {data_dir / LABELS_FILE}: {', '.join(missing)}")
        clips = {name: clips[name] for name in names}
    fingerprint = pipeline_fingerprint()
    out = []
    items = list(clips.items())
    for name, entry in progress(items) if progress else items:
        probs, t = cached_stream(Path(data_dir) / name, fingerprint, cache_dir)
        segments = segments_of(entry)
        out.append(
            RealClip(name, entry["kind"], short_source(entry["source"]), probs, t, frame_labels(t, segments), segments)
        )
    return out


def labelled_clips(clips: list[RealClip], data_dir: Path) -> list[RealClip]:
    """The clips, refused in one line when none has a labelled segment: there is nothing to fit or score."""
    if not any(clip.segments for clip in clips):
        raise RealDataError(
            f"{Path(data_dir) / LABELS_FILE} has no clip with labelled segments: nothing to fit or score"
        )
    return clips


# --- training sequences from real clips ---------------------------------------------------------------------------
CHUNK_S = 20.0  # long clips are cut into pieces this long: a training step loop over minutes of frames is slow
SPEED_RANGE = (0.8, 1.25)  # people act faster and slower than these actors; time is stretched by this factor
SPLICE_CLIPS = (2, 4)  # a spliced sequence plays this many labelled clips one after another
SPLICE_SEQUENCES_PER_CLIP = 2  # spliced sequences made per labelled clip


def _stretched(clip: RealClip, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    speed = rng.uniform(*SPEED_RANGE)
    return clip.probs, (clip.t - clip.t[0]) * speed, clip.labels


def as_sequences(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]]):
    """(probs, t, labels) parts as one smoothing.fitting.sequences.Sequences, one segment per part."""
    lengths = [len(part[1]) for part in parts]
    return Sequences(
        np.concatenate([part[0] for part in parts]).astype(np.float32),
        np.concatenate([part[1] for part in parts]),
        np.concatenate([part[2] for part in parts]),
        np.concatenate([np.zeros(n, dtype=np.int64) for n in lengths]),
        np.concatenate([[0], np.cumsum(lengths)]),
    )


def spliced(pieces: list[tuple[np.ndarray, np.ndarray, np.ndarray, float]]) -> tuple[np.ndarray, ...]:
    """(probs, t, labels, frame period) pieces, each with t from 0, played one after another: each next piece starts
    one of its predecessor's frame periods after that one's last frame."""
    parts, offset = [], 0.0
    for probs, t, labels, period in pieces:
        parts.append((probs, t + offset, labels))
        offset += t[-1] + period
    return tuple(np.concatenate([part[k] for part in parts]) for k in range(3))


def training_sequences(clips: list[RealClip], rng: np.random.Generator):
    """Real clips as smoothing.fitting.sequences.Sequences for the recurrent trainers: every clip once (long ones in
    CHUNK_S pieces), time-stretched, plus splices of labelled clips of different emotions, so that the nets see real
    changes between real expressions, not only the single change of a CK+ onset. Unlabelled frames carry UNSCORED."""
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for clip in clips:
        probs, t, labels = _stretched(clip, rng)
        for start in np.arange(0.0, max(t[-1], 1e-9), CHUNK_S):
            piece = (t >= start) & (t < start + CHUNK_S)
            if piece.sum() > 1:
                parts.append((probs[piece], t[piece] - t[piece][0], labels[piece]))
    labelled = [clip for clip in clips if (clip.labels != UNSCORED).any()]
    for _ in range(SPLICE_SEQUENCES_PER_CLIP * len(labelled) if len(labelled) > 1 else 0):
        count = min(int(rng.integers(SPLICE_CLIPS[0], SPLICE_CLIPS[1] + 1)), len(labelled))
        pieces = []
        for index in rng.choice(len(labelled), size=count, replace=False):
            probs, t, labels = _stretched(labelled[int(index)], rng)
            pieces.append((probs, t, labels, float(np.median(np.diff(t))) if len(t) > 1 else 0.0))
        parts.append(spliced(pieces))
    return as_sequences(parts)


STEADY_SEQUENCES = 40  # beside the ~130 real ones: enough that a net cannot learn to distrust a held label
STEADY_SEGMENTS = (3, 6)
STEADY_SEGMENT_S = (1.5, 5.0)
STEADY_FPS = (15.0, 30.0)


def steady_sequences(count: int, rng: np.random.Generator):
    """Synthetic sequences of held expressions (smoothing.fitting.synthetic.steady_stream, one emotion after another),
    so the fine-tuned nets keep showing a label the classifier holds: the real clips alone taught them to overrule
    it."""
    parts = []
    for _ in range(count):
        fps = float(rng.choice(STEADY_FPS))
        pieces = []
        for _ in range(int(rng.integers(STEADY_SEGMENTS[0], STEADY_SEGMENTS[1] + 1))):
            held = int(rng.integers(NUM_CLASSES))
            probs, t = steady_stream(held, rng.uniform(*STEADY_SEGMENT_S), int(rng.integers(2**31)), fps)
            pieces.append((probs, t, np.full(len(t), held, dtype=np.int64), 1.0 / fps))
        parts.append(spliced(pieces))
    return as_sequences(parts)


def concatenated(*many):
    """Several Sequences as one (as built here: one segment per sequence)."""
    return as_sequences([sequences.sequence(i)[:3] for sequences in many for i in range(len(sequences))])
