"""Offline smoothing of a whole recording: each track's sequence is smoothed at once, looking ahead where it helps."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

import smoothing
from app.results import FrameResult
from smoothing.labels import NUM_CLASSES


def smooth_tracks_offline(name: str, results: Sequence[FrameResult]) -> list[FrameResult]:
    """The results (of a Pipeline without smoother, so tracked but not smoothed) with each face's belief from
    smooth_offline(name) over its whole track.

    A track's sequence runs from its first to its last frame; frames in between where its face was missing are
    NaN rows, so the smoother sees the gaps with their real times.
    """
    sightings: dict[int, list[tuple[int, int]]] = {}  # track id -> (frame position, face number) of each sighting
    for position, result in enumerate(results):
        for number, face in enumerate(result.faces):
            sightings.setdefault(face.track, []).append((position, number))
    times = np.array([result.t for result in results], dtype=np.float64)
    faces = [list(result.faces) for result in results]
    for seen in sightings.values():
        first, last = seen[0][0], seen[-1][0]
        probs = np.full((last - first + 1, NUM_CLASSES), np.nan)
        for position, number in seen:
            probs[position - first] = faces[position][number].probs
        beliefs = smoothing.smooth_offline(name, probs, times[first : last + 1])
        for position, number in seen:
            faces[position][number] = replace(faces[position][number], belief=beliefs[position - first])
    return [replace(result, faces=smoothed) for result, smoothed in zip(results, faces, strict=True)]
