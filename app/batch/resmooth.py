"""Smoothing a per-frame table that another tool (or an earlier run) wrote, without running any detector or CNN:
its faces (read by app.batch.tables) tracked by box overlap or, where it has no boxes, by their index, each track
smoothed online or offline, and written in the video CSV's columns. `emosmooth smooth` and app.smooth() both run
smooth_table()."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

import smoothing
from app.batch.tables import BOX_COLUMNS, TableFrames, TableOptions, table_frames
from app.batch.video import check_smoother
from app.engine.offline import smooth_tracks_offline
from app.engine.results import FrameResult
from app.engine.tracker import FaceTracker, IndexTracker
from app.errors import AppError, frames_written, stop_code, stop_word
from app.output.csv_writer import DROPPED_COLUMN, SMOOTHED_COLUMNS, CsvWriter, Row, dropped_cell, frame_rows
from app.output.paths import prepare_output


@dataclass(frozen=True)
class Smoothed:
    """What went into the smoothed CSV, for the closing line."""

    layout: str
    frames: int
    faces: int
    tracks: int


def track_frames(frames: TableFrames, new_smoother: Callable[[], smoothing.Smoother] | None) -> list[FrameResult]:
    """Each frame's faces with their track ids (and, with smoothers, beliefs), and the live tracks it lacks
    predicted: by box overlap with the video's own tracker, or by face index where the table has no boxes. A
    dropped frame's tracks are only predicted, as the run that dropped it did: no smoother takes a step there."""
    tracker = FaceTracker(new_smoother) if frames.has_boxes else IndexTracker(new_smoother)
    tracked = []
    for result, keys in zip(frames.results, frames.keys, strict=True):
        if result.dropped:
            tracked.append(replace(result, predicted=tracker.predict(result.t)))
            continue
        args = (result.t, result.faces) if frames.has_boxes else (result.t, result.faces, keys)
        faces, missed = tracker.update(*args)
        tracked.append(replace(result, faces=faces, predicted=missed))
    return tracked


def smooth_frames(frames: TableFrames, smoother: str, offline: bool) -> list[FrameResult]:
    """The table's frames tracked and smoothed: online as the video command smooths, or offline over each whole
    track."""
    if offline:
        return smooth_tracks_offline(smoother, track_frames(frames, None))
    return track_frames(frames, lambda: smoothing.create(smoother))


def table_rows(results: list[FrameResult], has_boxes: bool, flags_drops: bool) -> Iterator[list[Row]]:
    """Each frame's CSV rows; a table without boxes leaves the box columns empty; one that said which frames were
    dropped says it again."""
    for result in results:
        rows = frame_rows(result, dropped_cell(result) if flags_drops else None)
        if not has_boxes:
            for row in rows:
                for column in BOX_COLUMNS:
                    row.pop(column, None)
        yield rows


def smooth_table(
    table: pd.DataFrame,
    name: str,
    out: Path,
    smoother: str,
    offline: bool = False,
    options: TableOptions | None = None,
    source: Path | None = None,
) -> Smoothed:
    """The table (named `name` in messages; read from `source` when a file) smoothed into the CSV `out`; what was
    said about it (missing classes, renormalised faces) goes to stderr as one `warning:` line each."""
    check_smoother(smoother, offline)
    frames = table_frames(table, options or TableOptions(), name)
    prepare_output(out, source)
    results = smooth_frames(frames, smoother, offline)
    try:
        writer = CsvWriter(out, (*SMOOTHED_COLUMNS, *((DROPPED_COLUMN,) if frames.flags_drops else ())))
    except OSError as error:
        raise AppError(f"cannot write {out}: {error.strerror or error}") from None
    try:
        for rows in table_rows(results, frames.has_boxes, frames.flags_drops):
            writer.write_rows(rows)  # a failed write (disk full) is an AppError naming the frames written
    except KeyboardInterrupt as stop:
        written = f"{stop_word(stop)}; {frames_written(writer.frames_written)} to {out}"
        raise AppError(written, stop_code(stop)) from None
    finally:
        writer.close()
    for note in frames.notes:
        print(f"warning: {note}", file=sys.stderr, flush=True)
    tracks = {face.track for result in results for face in result.faces}
    return Smoothed(frames.layout, len(results), frames.faces, len(tracks))
