"""Labelled video-like sequences built from real FER2013 faces and classified by the shipped CNN.

An emotion path comes from a semi-Markov process (gamma dwell times of seconds, neutral as the hub); each segment
shows one real face under augmentations that drift smoothly in time, so consecutive CNN outputs are correlated as
in video; segments cross-fade; some spells have no face. Drops are applied later, by drop_mask, at any rate.
Run `python -m smoothing.fitting.sequences` to build the cache (training sequences from Training faces, evaluation
sequences from PublicTest faces).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

import models
from app.errors import CommandLineParser
from models.roots import CACHE_ROOT
from models.training.data import DEFAULT_DATA, load_split
from smoothing.base import CLASSES, NOMINAL_FRAME_PERIOD_S, NUM_CLASSES

CACHE_DIR = CACHE_ROOT / "sequences"
CACHE_VERSION = 1
FACE_SIZE = 48

# --- the emotion path -----------------------------------------------------------------------------------------
# Mean dwell per emotion (s). Posed and spontaneous macro-expressions last about 0.5-4 s (Ekman; Yan et al. 2013);
# surprise is the briefest, sadness lingers; the neutral baseline between expressions is longer.
MEAN_DWELL_S: dict[str, float] = {
    "angry": 2.5, "disgust": 2.0, "fear": 2.0, "happy": 3.0, "sad": 3.5, "surprise": 1.5, "neutral": 4.0,
}  # fmt: skip
DWELL_SHAPE: float = 2.0  # gamma shape > 1: an expression has an onset, apex and offset, so very short dwells are rare
MIN_DWELL_S: float = 0.5  # below this an expression is a micro-expression, which FER-style faces do not show
# Where an expression goes next (embedded jump chain). Neutral is the hub: most expressions return to baseline.
# Direct moves link neighbours on the valence-arousal circumplex and pairs that blend in real faces
# (anger-disgust, fear-surprise, surprise-happiness, sadness-anger/fear). From neutral, happiness is the most
# frequent everyday expression and disgust the rarest.
JUMPS: dict[str, dict[str, float]] = {
    "neutral": {"angry": 0.15, "disgust": 0.08, "fear": 0.12, "happy": 0.35, "sad": 0.15, "surprise": 0.15},
    "angry": {"neutral": 0.60, "disgust": 0.25, "sad": 0.15},
    "disgust": {"neutral": 0.60, "angry": 0.30, "sad": 0.10},
    "fear": {"neutral": 0.60, "surprise": 0.25, "sad": 0.15},
    "happy": {"neutral": 0.80, "surprise": 0.20},
    "sad": {"neutral": 0.70, "angry": 0.15, "fear": 0.15},
    "surprise": {"neutral": 0.50, "happy": 0.30, "fear": 0.20},
}

# --- frames and faces -----------------------------------------------------------------------------------------
FRAME_JITTER: float = 0.2  # capture times wander by up to 20% of a period (USB cameras, OS scheduling)
CROSSFADE_S: float = 0.2  # a change of expression takes a few frames; the truth switches mid-fade
NO_FACE_RATE_HZ: float = 1.0 / 15.0  # a spell without a usable face (turned away, occluded) every 15 s on average
NO_FACE_S: tuple[float, float] = (0.3, 1.5)
DURATION_S: tuple[float, float] = (20.0, 40.0)

# --- augmentation: Ornstein-Uhlenbeck drifts, each (stationary std, time constant s) ------------------------------
DRIFT_TAU_S: float = 1.0  # head motion and lighting change over about a second
SHIFT_STD_PX: float = 1.5
LOG_SCALE_STD: float = 0.04
ROTATION_STD_DEG: float = 4.0
BRIGHTNESS_STD: float = 12.0  # grey levels
LOG_CONTRAST_STD: float = 0.10
BLUR_SIGMA_RANGE: tuple[float, float] = (0.0, 1.2)  # focus and motion blur
NOISE_STD_RANGE: tuple[float, float] = (1.0, 6.0)  # sensor noise, grey levels; fresh every frame
MIN_BLUR_SIGMA: float = 0.3  # below this a blur changes nothing visible

# --- drops ------------------------------------------------------------------------------------------------------
STALL_S: tuple[float, float] = (0.5, 3.0)
BURST_FRAMES: tuple[int, int] = (2, 6)
STALL_SHARE: float = 0.3  # of the dropped frames: long stalls, short bursts, the rest independent
BURST_SHARE: float = 0.3

CLASSIFY_BATCH: int = 256  # big enough to amortise torch overhead, small enough to stay in cache
TRAIN_SEQUENCES: int = 240
EVAL_SEQUENCES: int = 100
SEEDS = {"training": 20261123, "publictest": 20261124}


@dataclass
class Sequences:
    """Concatenated frames of many sequences; sequence i spans offsets[i]:offsets[i + 1]."""

    probs: np.ndarray  # (N, 7) float32, NaN rows where there was no face
    t: np.ndarray  # (N,) seconds, from 0 within each sequence
    labels: np.ndarray  # (N,) true emotion
    segment: np.ndarray  # (N,) segment number within the sequence (one face per segment)
    offsets: np.ndarray  # (S + 1,)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def sequence(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(probs, t, labels, segment) of sequence i."""
        s = slice(self.offsets[i], self.offsets[i + 1])
        return self.probs[s], self.t[s], self.labels[s], self.segment[s]

    def subset(self, indices: np.ndarray) -> Sequences:
        parts = [self.sequence(int(i)) for i in indices]
        lengths = [len(p[0]) for p in parts]
        return Sequences(
            *(np.concatenate([p[k] for p in parts]) for k in range(4)), np.concatenate([[0], np.cumsum(lengths)])
        )


def jump_matrix() -> np.ndarray:
    """JUMPS as a (7, 7) row-stochastic matrix in CLASSES order."""
    matrix = np.zeros((NUM_CLASSES, NUM_CLASSES))
    for source, targets in JUMPS.items():
        for target, p in targets.items():
            matrix[CLASSES.index(source), CLASSES.index(target)] = p
    return matrix


def mean_dwells() -> np.ndarray:
    return np.array([MEAN_DWELL_S[name] for name in CLASSES])


def occupancy() -> np.ndarray:
    """Long-run share of time in each emotion: the jump chain's stationary law weighted by mean dwell."""
    jumps = jump_matrix()
    values, vectors = np.linalg.eig(jumps.T)
    visits = np.abs(vectors[:, np.argmin(np.abs(values - 1))].real)
    time_share = visits / visits.sum() * mean_dwells()
    return time_share / time_share.sum()


def sample_path(duration_s: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Segment labels and start times (the first at 0) of a semi-Markov emotion path."""
    jumps, dwells = jump_matrix(), mean_dwells()
    label = int(rng.choice(NUM_CLASSES, p=occupancy()))
    labels, starts, start = [], [], 0.0
    while start < duration_s:
        labels.append(label)
        starts.append(start)
        dwell = rng.gamma(DWELL_SHAPE, dwells[label] / DWELL_SHAPE)
        start += max(dwell, MIN_DWELL_S)
        label = int(rng.choice(NUM_CLASSES, p=jumps[label]))
    return np.array(labels), np.array(starts)


def frame_times(duration_s: float, rng: np.random.Generator, period_s: float = NOMINAL_FRAME_PERIOD_S) -> np.ndarray:
    """Capture times at the nominal period with jitter; strictly increasing."""
    n = int(duration_s / period_s)
    return (np.arange(n) + FRAME_JITTER / 2 + rng.uniform(-FRAME_JITTER / 2, FRAME_JITTER / 2, n)) * period_s


def ornstein_uhlenbeck(t: np.ndarray, std: float, rng: np.random.Generator, tau_s: float = DRIFT_TAU_S) -> np.ndarray:
    """A stationary drift sampled at times t: smooth over tau_s, with the given standard deviation."""
    x = np.empty(len(t))
    x[0] = rng.normal(0.0, std)
    decay = np.exp(-np.diff(t) / tau_s)
    shocks = rng.normal(0.0, 1.0, len(t) - 1) * std * np.sqrt(1.0 - decay**2)
    for i in range(1, len(t)):
        x[i] = x[i - 1] * decay[i - 1] + shocks[i - 1]
    return x


def squash(x: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    """Maps a unit drift into bounds through a logistic, so it spends time across the whole range."""
    low, high = bounds
    return low + (high - low) / (1.0 + np.exp(-1.7 * x))


def no_face_mask(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """True where a spell without a usable face covers the frame."""
    mask = np.zeros(len(t), dtype=bool)
    duration = t[-1] if len(t) else 0.0
    for _ in range(rng.poisson(NO_FACE_RATE_HZ * duration)):
        start = rng.uniform(0, duration)
        mask |= (t >= start) & (t < start + rng.uniform(*NO_FACE_S))
    return mask


def render_frames(
    faces: np.ndarray, segment_faces: np.ndarray, starts: np.ndarray, t: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(T, 48, 48) uint8 frames and each frame's segment: the segment's face, cross-faded at changes, augmented."""
    segment = np.searchsorted(starts, t, side="right") - 1
    base = faces[segment_faces[segment]].astype(np.float32)
    for boundary_index in range(1, len(starts)):  # cross-fades, centred on each change
        boundary = starts[boundary_index]
        fading = np.abs(t - boundary) < CROSSFADE_S / 2
        if fading.any():
            w = ((t[fading] - boundary) / CROSSFADE_S + 0.5).astype(np.float32)[:, None, None]
            before = faces[segment_faces[boundary_index - 1]].astype(np.float32)
            after = faces[segment_faces[boundary_index]].astype(np.float32)
            base[fading] = (1 - w) * before + w * after

    unit = [ornstein_uhlenbeck(t, 1.0, rng) for _ in range(7)]
    dx, dy = SHIFT_STD_PX * unit[0], SHIFT_STD_PX * unit[1]
    scale, angle = np.exp(LOG_SCALE_STD * unit[2]), ROTATION_STD_DEG * unit[3]
    brightness, contrast = BRIGHTNESS_STD * unit[4], np.exp(LOG_CONTRAST_STD * unit[5])
    blur = squash(unit[6], BLUR_SIGMA_RANGE)
    noise_std = squash(ornstein_uhlenbeck(t, 1.0, rng), NOISE_STD_RANGE)

    centre = (FACE_SIZE / 2 - 0.5, FACE_SIZE / 2 - 0.5)
    frames = np.empty_like(base)
    for i in range(len(t)):
        matrix = cv2.getRotationMatrix2D(centre, float(angle[i]), float(scale[i]))
        matrix[:, 2] += (dx[i], dy[i])
        frame = cv2.warpAffine(base[i], matrix, (FACE_SIZE, FACE_SIZE), borderMode=cv2.BORDER_REFLECT)
        if blur[i] >= MIN_BLUR_SIGMA:
            frame = cv2.GaussianBlur(frame, (0, 0), float(blur[i]))
        frames[i] = frame
    mean = frames.mean(axis=(1, 2), keepdims=True)
    frames = (frames - mean) * contrast[:, None, None] + mean + brightness[:, None, None]
    frames += rng.normal(0.0, 1.0, frames.shape).astype(np.float32) * noise_std[:, None, None].astype(np.float32)
    return np.clip(np.rint(frames), 0, 255).astype(np.uint8), segment


class FacePicker:
    """Draws faces of a class without replacement, reshuffling a class only once all its faces were used."""

    def __init__(self, labels: np.ndarray, rng: np.random.Generator) -> None:
        self.by_class = [np.flatnonzero(labels == c) for c in range(NUM_CLASSES)]
        self.rng = rng
        self.queues: list[list[int]] = [[] for _ in range(NUM_CLASSES)]

    def pick(self, label: int) -> int:
        if not self.queues[label]:
            self.queues[label] = self.rng.permutation(self.by_class[label]).tolist()
        return self.queues[label].pop()


def build_sequences(
    faces: np.ndarray,
    labels: np.ndarray,
    count: int,
    classify: Callable[[np.ndarray], np.ndarray],
    seed: int,
    duration_s: tuple[float, float] = DURATION_S,
    period_s: float = NOMINAL_FRAME_PERIOD_S,
) -> Sequences:
    """count sequences; classify maps (N, 48, 48) uint8 faces to (N, 7) probabilities and is called in big batches."""
    rng = np.random.default_rng(seed)
    picker = FacePicker(labels, rng)
    all_t, all_labels, all_segments, all_face, pending, offsets = [], [], [], [], [], [0]
    for _ in range(count):
        duration = rng.uniform(*duration_s)
        path_labels, starts = sample_path(duration, rng)
        t = frame_times(duration, rng, period_s)
        segment_faces = np.array([picker.pick(int(label)) for label in path_labels])
        frames, segment = render_frames(faces, segment_faces, starts, t, rng)
        face = ~no_face_mask(t, rng)
        pending.append(frames[face])
        all_t.append(t)
        all_labels.append(path_labels[segment])
        all_segments.append(segment)
        all_face.append(face)
        offsets.append(offsets[-1] + len(t))
    face = np.concatenate(all_face)
    probs = np.full((len(face), NUM_CLASSES), np.nan, dtype=np.float32)
    probs[face] = classify_in_batches(np.concatenate(pending), classify)
    return Sequences(
        probs, np.concatenate(all_t), np.concatenate(all_labels), np.concatenate(all_segments), np.array(offsets)
    )


def classify_in_batches(frames: np.ndarray, classify: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    return np.concatenate(
        [classify(frames[i : i + CLASSIFY_BATCH]) for i in range(0, len(frames), CLASSIFY_BATCH)]
        or [np.zeros((0, NUM_CLASSES), np.float32)]
    )


def drop_mask(
    t: np.ndarray,
    rate: float,
    rng: np.random.Generator,
    stall_share: float = STALL_SHARE,
    burst_share: float = BURST_SHARE,
) -> np.ndarray:
    """Which frames arrive: exactly round(rate * T) dropped, as long stalls, short bursts and independent drops
    (the shares say how much of the dropped total each kind of run takes; the rest are independent)."""
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"the share of frames dropped must lie in [0, 1], got {rate}")
    if not (stall_share >= 0.0 and burst_share >= 0.0 and stall_share + burst_share <= 1.0):
        raise ValueError(f"stall and burst shares must be >= 0 and sum to at most 1, got {stall_share}, {burst_share}")
    n = len(t)
    target = round(rate * n)
    keep = np.ones(n, dtype=bool)
    if target == 0 or n < 2:
        return keep

    def drop_runs(budget: int, draw_length: Callable[[], int]) -> None:
        attempts = 0
        while (~keep).sum() < budget and attempts < 100:
            attempts += 1
            length = min(draw_length(), budget - int((~keep).sum()))
            start = int(rng.integers(1, n))
            keep[start : start + length] = False

    drop_runs(int(stall_share * target), lambda: int(rng.uniform(*STALL_S) / np.median(np.diff(t))))
    low, high = BURST_FRAMES
    drop_runs(int((stall_share + burst_share) * target), lambda: int(rng.integers(low, high + 1)))
    kept = np.flatnonzero(keep[1:]) + 1  # the first frame always arrives, so every sequence starts at its start
    extra = target - int((~keep).sum())
    if extra > 0:
        keep[rng.choice(kept, size=min(extra, len(kept)), replace=False)] = False
    return keep


def cache_path(split: str) -> Path:
    return CACHE_DIR / f"{split}-v{CACHE_VERSION}.npz"


def save(sequences: Sequences, path: Path, **meta) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **vars(sequences), **meta)


def load(path: Path) -> Sequences:
    with np.load(path) as data:
        return Sequences(data["probs"], data["t"], data["labels"], data["segment"], data["offsets"])


def build_split(split: str, count: int, weights: str | None = None) -> tuple[Sequences, float]:
    """Builds one split's sequences with the shipped classifier; returns them and the seconds it took."""
    start = time.perf_counter()
    faces, labels = load_split(DEFAULT_DATA, split)
    classifier = models.load_classifier(weights)
    sequences = build_sequences(faces, labels, count, classifier.predict, SEEDS[split])
    return sequences, time.perf_counter() - start


def load_or_build(split: str, count: int | None = None) -> Sequences:
    """The cached sequences of a split ("training" or "publictest"), built on first use."""
    path = cache_path(split)
    if path.is_file():
        return load(path)
    count = count if count is not None else (TRAIN_SEQUENCES if split == "training" else EVAL_SEQUENCES)
    sequences, seconds = build_split(split, count)
    save(sequences, path, build_seconds=np.float64(seconds))
    print(f"built {len(sequences)} {split} sequences ({len(sequences.t)} frames) in {seconds:.0f} s -> {path}")
    return sequences


def main() -> None:
    parser = CommandLineParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["training", "publictest", "all"], default="all")
    parser.add_argument("--rebuild", action="store_true", help="ignore an existing cache")
    args = parser.parse_args()
    for split in ["publictest", "training"] if args.split == "all" else [args.split]:
        if args.rebuild and cache_path(split).is_file():
            cache_path(split).unlink()
        load_or_build(split)


if __name__ == "__main__":
    main()
