"""Scoring smoothed labels on real clips: accuracy and macro-F1 of labelled frames, switches per minute, CK+ onset
lag and face-found share, pooled over clips per kind. Shared by the real benchmark and the fits on real clips."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from smoothing.fitting.real_sequences import UNSCORED, RealClip
from smoothing.fitting.sequences import drop_mask
from smoothing.labels import CLASSES, NUM_CLASSES

LABELLED_KINDS: tuple[str, ...] = ("onset", "acted", "by-eye")
ALL_LABELLED = "all labelled"
ALL_CLIPS = "all clips"  # labelled and talking: what needs no label, as whether a held label is shown
# A label the classifier has held (the same top label, each frame above HELD_MIN_P) for HELD_S: a smoother that
# hides it overrules the evidence; right where the classifier is wrong for seconds, wrong where it is right.
HELD_S = 1.0
HELD_MIN_P = 0.5
TALKING = "flicker"  # talking or mostly neutral faces without labels: only switching is measured
ONSET_KIND = "onset"
SECONDS_PER_MINUTE = 60.0
DROP_SEED = 9090


@dataclass
class Tally:
    """Counts pooled over clips: confusion of scored frames, label switches, minutes, onset lags, face frames."""

    confusion: np.ndarray = field(default_factory=lambda: np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=np.int64))
    switches: int = 0
    truth_switches: int = 0
    minutes: float = 0.0
    lags: list[float] = field(default_factory=list)
    never: int = 0
    face_frames: int = 0
    frames: int = 0
    held: int = 0  # arrived face frames whose raw label was held (held_frames)
    held_shown: int = 0  # ... on which the shown label is that label

    def add(self, other: Tally) -> None:
        self.confusion += other.confusion
        self.switches += other.switches
        self.truth_switches += other.truth_switches
        self.minutes += other.minutes
        self.lags += other.lags
        self.never += other.never
        self.face_frames += other.face_frames
        self.frames += other.frames
        self.held += other.held
        self.held_shown += other.held_shown

    def summary(self) -> dict[str, float]:
        scored = self.confusion.sum()
        correct = np.diag(self.confusion)
        support, predicted = self.confusion.sum(axis=1), self.confusion.sum(axis=0)
        present = support > 0
        f1 = 2 * correct[present] / np.maximum(support[present] + predicted[present], 1)
        lags = np.array(self.lags)
        out = {
            "accuracy": float(correct.sum() / scored) if scored else float("nan"),
            "macro_f1": float(f1.mean()) if present.any() else float("nan"),
            "scored_frames": int(scored),
            "switches_per_min": self.switches / self.minutes if self.minutes else float("nan"),
            "truth_switches_per_min": self.truth_switches / self.minutes if self.minutes else float("nan"),
            "face_found": self.face_frames / self.frames if self.frames else float("nan"),
            "held_label_shown": self.held_shown / self.held if self.held else float("nan"),
        }
        if len(lags):
            out |= {
                "onset_lag_p50_s": float(np.percentile(lags, 50)),
                "onset_lag_p90_s": float(np.percentile(lags, 90)),
                "onset_never_reached": self.never / len(lags),
            }
        return out


def switches(labels: np.ndarray) -> int:
    return int(np.count_nonzero(np.diff(labels))) if len(labels) > 1 else 0


def onset_lag(clip: RealClip, t: np.ndarray, shown: np.ndarray, face: np.ndarray) -> tuple[float, bool] | None:
    """Apex start to the first arrived face frame showing the apex label, within the apex segment; a clip that never
    shows it counts with the whole apex span (a lower bound), flagged as never reached."""
    apex = [(start, end, label) for start, end, label in clip.segments if CLASSES[label] != "neutral"]
    if not apex:
        return None
    start, end, label = apex[0]
    window = (t >= start) & (t <= end) & face
    hits = np.flatnonzero(window & (shown == label))
    if len(hits):
        return float(t[hits[0]] - start), False
    return float(end - start), True


def held_frames(probs: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mask, top label) of face frames: the frames at which the top label has been the same, each frame's
    probability of it above HELD_MIN_P, for at least HELD_S seconds."""
    top = probs.argmax(axis=1)
    sure = probs.max(axis=1) > HELD_MIN_P
    starts = np.ones(len(t), dtype=bool)  # a frame that begins a run of one sure top label
    starts[1:] = (top[1:] != top[:-1]) | ~sure[1:] | ~sure[:-1]
    run_start = np.maximum.accumulate(np.where(starts, np.arange(len(t)), 0))  # each frame's run's first frame
    return sure & (t - t[run_start] >= HELD_S), top


def tally_clip(clip: RealClip, keep: np.ndarray, shown: np.ndarray) -> Tally:
    """One clip's counts, for the frames that arrived (keep) and the label shown at each of them."""
    t, labels, face = clip.t[keep], clip.labels[keep], clip.has_face[keep]
    scored = face & (labels != UNSCORED)
    tally = Tally(minutes=clip.duration_s / SECONDS_PER_MINUTE, face_frames=int(face.sum()), frames=len(t))
    np.add.at(tally.confusion, (labels[scored], shown[scored]), 1)
    tally.switches = switches(shown[face])
    held, top = held_frames(clip.probs[keep][face], t[face])
    tally.held, tally.held_shown = int(held.sum()), int(np.count_nonzero(shown[face][held] == top[held]))
    tally.truth_switches = switches(labels[scored])
    if clip.kind == ONSET_KIND:
        lag = onset_lag(clip, t, shown, face)
        if lag is not None:
            tally.lags.append(lag[0])
            tally.never += int(lag[1])
    return tally


def held_label_changes(clip: RealClip, keep: np.ndarray, window_s: float, share: float) -> int:
    """How often the label changes between the windows of window_s in which one raw label wins at least `share` of
    the arrived face frames: a smoother bound to show such a held label within window_s (the steady-label rule the
    learned smoothers are fitted and tested to) must switch at least this often, whatever else it does."""
    face = clip.has_face[keep]
    t, raw = clip.t[keep][face], np.argmax(clip.probs[keep][face], axis=1)
    held: list[int] = []
    first = 0
    for last in range(len(t)):
        while t[last] - t[first] > window_s:
            first += 1
        if t[last] - t[0] < window_s:
            continue  # not yet a whole window since the face appeared
        counts = np.bincount(raw[first : last + 1], minlength=NUM_CLASSES)
        label = int(counts.argmax())
        if counts[label] >= share * (last + 1 - first) and (not held or held[-1] != label):
            held.append(label)
    return max(len(held) - 1, 0)


def segment_vote(clip: RealClip, keep: np.ndarray) -> np.ndarray:
    """Each labelled segment's arrived face frames shown as their majority raw label: perfect boundaries and look-
    ahead, so no causal smoother is expected to beat it by much. Unlabelled frames show the raw label."""
    probs, t, face = clip.probs[keep], clip.t[keep], clip.has_face[keep]
    raw = np.argmax(np.nan_to_num(probs, nan=0.0), axis=1)
    shown = raw.copy()
    labels = clip.labels[keep]
    for start, end, _ in clip.segments:
        members = (t >= start) & (t <= end) & face & (labels != UNSCORED)
        if members.any():
            shown[members] = np.argmax(np.bincount(raw[members], minlength=NUM_CLASSES))
    return shown


def arrivals(
    clip: RealClip, rate: float, stall_share: float, burst_share: float, seeds: int, seed: int = DROP_SEED
) -> list[np.ndarray]:
    """The keep masks a clip is scored under: one without drops, else `seeds` fixed drop patterns (a clip keeps its
    patterns whatever the other clips are)."""
    if rate == 0:
        return [np.ones(len(clip.t), dtype=bool)]
    index = sum(map(ord, clip.name))
    return [
        drop_mask(clip.t, rate, np.random.default_rng(seed + 1000 * s + index), stall_share, burst_share)
        for s in range(seeds)
    ]


def talking_group(source: str) -> str:
    """The group of one source's talking clips: sources differ in how much their faces really change (people talking
    to a camera, or pulling faces for an animation's driving clip), so their switching is also reported apart."""
    return f"{TALKING}: {source}"


def group_of(clip: RealClip) -> list[str]:
    if clip.kind == TALKING:
        return [clip.kind, talking_group(clip.source), ALL_CLIPS]
    return [clip.kind, ALL_LABELLED, ALL_CLIPS] if clip.kind in LABELLED_KINDS else [clip.kind, ALL_CLIPS]


def summarise(tallies: dict[str, Tally]) -> dict[str, dict[str, float]]:
    return {group: tally.summary() for group, tally in tallies.items()}


def pooled(clip_tallies: list[tuple[RealClip, Tally]]) -> dict[str, Tally]:
    """Per-clip tallies pooled per kind and over all labelled clips."""
    tallies: dict[str, Tally] = {}
    for clip, tally in clip_tallies:
        for group in group_of(clip):
            tallies.setdefault(group, Tally()).add(tally)
    return tallies
