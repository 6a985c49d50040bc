"""Offline smoothing of a whole recording: each track's sequence is smoothed at once, looking ahead where it helps."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

import smoothing
from app.engine.results import FaceResult, FrameResult
from smoothing.labels import NUM_CLASSES


def smooth_tracks_offline(name: str, results: Sequence[FrameResult]) -> list[FrameResult]:
    """The results (of a Pipeline without smoother, so tracked but not smoothed) with a belief from
    smooth_offline(name) over its whole track for each face, seen or predicted (a live track's missed face or
    dropped frame).

    A track's sequence runs from its first to its last sighting; frames in between where its face was missing are
    NaN rows, so the smoother sees the gaps with their real times. The frames after its last sighting that the track
    still lives through are smoothed with that tail added, and only they take their beliefs from it: the sighted
    frames' beliefs stay those of the span, which nothing after it changes.
    """
    groups = [(list(result.faces), list(result.predicted)) for result in results]
    entries: dict[int, list[tuple[int, list[FaceResult], int]]] = {}  # track -> (position, its list, index in it)
    for position, lists in enumerate(groups):
        for faces in lists:
            for number, face in enumerate(faces):
                entries.setdefault(face.track, []).append((position, faces, number))
    times = np.array([result.t for result in results], dtype=np.float64)
    for track_entries in entries.values():
        sighted = [(position, faces[number]) for position, faces, number in track_entries if faces[number].observed]
        first, last_seen, last = sighted[0][0], sighted[-1][0], track_entries[-1][0]
        probs = np.full((last - first + 1, NUM_CLASSES), np.nan)
        for position, face in sighted:
            probs[position - first] = face.probs
        span = last_seen - first + 1
        beliefs = smoothing.smooth_offline(name, probs[:span], times[first : last_seen + 1])
        if last > last_seen:
            tail = smoothing.smooth_offline(name, probs, times[first : last + 1])[span:]
            beliefs = np.vstack([beliefs, tail])
        for position, faces, number in track_entries:
            faces[number] = replace(faces[number], belief=beliefs[position - first])
    return [
        replace(result, faces=faces, predicted=predicted)
        for result, (faces, predicted) in zip(results, groups, strict=True)
    ]
