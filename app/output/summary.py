"""Per-track summary of a video (dominant emotion, share of time per emotion, switches per minute), as JSON.

Times are weighted by each frame's real duration (to the next frame), so variable-frame-rate files are summarised
by time and not by frame count. Like the timelines, summaries count the observed frames of a track only: a predicted
row (a dropped frame, a missed face) fills a gap in the CSV and the pictures, but it is no evidence of its own.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from app.engine.results import FaceResult
from smoothing.labels import CLASSES, NUM_CLASSES

S_PER_MINUTE = 60.0
SHARE_DECIMALS = 4
DEFAULT_FRAME_PERIOD_S = 1 / 30  # the last frame's duration when the video has a single frame
COUNTED_ROWS = "observed"  # which rows summaries, timelines and switch counts count (never the predicted ones)


@dataclass(frozen=True)
class TrackSummary:
    """One face over the video; labels are the smoothed ones when smoothing, else the raw ones."""

    track: int
    first_t: float
    last_t: float
    frames: int
    seconds: float
    dominant: str
    share: dict[str, float]
    switches: int
    switches_per_minute: float


def frame_durations(times: np.ndarray) -> np.ndarray:
    """Each frame's duration: the time to the next frame; the last one lasts the median period."""
    times = np.asarray(times, dtype=np.float64)
    if len(times) < 2:
        return np.full(len(times), DEFAULT_FRAME_PERIOD_S)
    gaps = np.clip(np.diff(times), 0.0, None)
    return np.append(gaps, np.median(gaps))


def sighting_durations(durations: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """How long each of one track's sightings (frame positions) stands for: until the next frame, but the track's
    last one at most the median period, as the video's last frame: what follows is not this face (the tracker ended
    its track, or the recording paused, and a 10 s pause must not count as 10 s of its last expression)."""
    weights = durations[positions].copy()
    if len(weights):
        weights[-1] = min(weights[-1], durations[-1])
    return weights


def summarize_tracks(times: Sequence[float], tracked: Sequence[Sequence[FaceResult]]) -> list[TrackSummary]:
    """One summary per track, in order of first appearance; tracked has one list per frame, aligned with times, of
    the faces seen in it (FrameResult.faces: predicted faces are not counted)."""
    durations = frame_durations(np.asarray(times))
    sightings: dict[int, list[tuple[int, int]]] = {}  # track -> (frame position, shown class)
    for position, faces in enumerate(tracked):
        for face in faces:
            sightings.setdefault(face.track, []).append((position, face.shown_index))
    summaries = []
    for track, seen in sightings.items():
        positions = np.array([p for p, _ in seen])
        labels = np.array([label for _, label in seen])
        weights = sighting_durations(durations, positions)
        per_class = np.bincount(labels, weights=weights, minlength=NUM_CLASSES)
        seconds = float(weights.sum())
        share = per_class / seconds if seconds > 0 else np.bincount(labels, minlength=NUM_CLASSES) / len(labels)
        switches = int(np.count_nonzero(np.diff(labels)))
        summaries.append(
            TrackSummary(
                track=track,
                first_t=float(times[positions[0]]),
                last_t=float(times[positions[-1]]),
                frames=len(seen),
                seconds=round(seconds, SHARE_DECIMALS),
                dominant=CLASSES[int(np.argmax(share))],
                share={name: round(float(value), SHARE_DECIMALS) for name, value in zip(CLASSES, share, strict=True)},
                switches=switches,
                switches_per_minute=round(switches / seconds * S_PER_MINUTE, SHARE_DECIMALS) if seconds > 0 else 0.0,
            )
        )
    return summaries


def write_summary(path: Path, video: Path, smoother: str | None, summaries: Sequence[TrackSummary]) -> None:
    """The JSON file: which video and smoother, then one object per track."""
    document = {
        "video": str(video),
        "smoother": smoother,
        "labels": "smoothed" if smoother is not None else "raw",
        "counted_rows": COUNTED_ROWS,
        "tracks": [asdict(summary) for summary in summaries],
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
