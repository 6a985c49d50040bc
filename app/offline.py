"""Offline smoothing of a whole recording: each track's sequence is smoothed at once, looking ahead where it helps."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

import smoothing
from app.pipeline import FrameResult
from app.tracker import TrackedFace
from models.labels import NUM_CLASSES


def smooth_tracks_offline(
    name: str, results: Sequence[FrameResult], tracked: Sequence[Sequence[TrackedFace]]
) -> list[list[TrackedFace]]:
    """tracked (one list per frame, from a FaceTracker without smoother) with beliefs from smooth_offline(name).

    A track's sequence runs from its first to its last frame; frames in between where its face was missing are
    NaN rows, so the smoother sees the gaps with their real times.
    """
    if len(results) != len(tracked):
        raise ValueError(f"{len(results)} frame results but {len(tracked)} lists of tracked faces")
    spans: dict[int, list[tuple[int, int]]] = {}  # track id -> (frame position, face number) of each sighting
    for position, faces in enumerate(tracked):
        for number, face in enumerate(faces):
            spans.setdefault(face.track, []).append((position, number))
    times = np.array([result.t for result in results], dtype=np.float64)
    smoothed = [list(faces) for faces in tracked]
    for sightings in spans.values():
        first, last = sightings[0][0], sightings[-1][0]
        probs = np.full((last - first + 1, NUM_CLASSES), np.nan)
        for position, number in sightings:
            probs[position - first] = tracked[position][number].face.probs
        beliefs = smoothing.smooth_offline(name, probs, times[first : last + 1])
        for position, number in sightings:
            smoothed[position][number] = replace(tracked[position][number], belief=beliefs[position - first])
    return smoothed
