"""The per-frame, per-face CSV: its columns and row building live here only, so later columns extend one place.

With a smoother, SMOOTHED_COLUMNS appends the track id and the smoothed belief, filled for faces that have one; other
extra columns work the same way (`columns=COLUMNS + (...)` and extra keys in the row dicts); missing keys are
written empty.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from app.results import FrameResult
from smoothing.labels import CLASSES

PROB_COLUMNS: tuple[str, ...] = tuple(f"p_{name}" for name in CLASSES)
COLUMNS: tuple[str, ...] = ("frame", "t", "face", "x", "y", "w", "h", *PROB_COLUMNS, "label")
PROB_DECIMALS = 5
TIME_DECIMALS = 4  # 0.1 ms, finer than any container's timestamps
SMOOTHED_PROB_COLUMNS: tuple[str, ...] = tuple(f"s_{name}" for name in CLASSES)
# With a smoother the raw columns come first, unchanged, then the track id and the smoothed belief.
SMOOTHED_COLUMNS: tuple[str, ...] = (*COLUMNS, "track", *SMOOTHED_PROB_COLUMNS, "smoothed_label")

Row = dict[str, str]


def frame_rows(result: FrameResult) -> list[Row]:
    """One row per face, with its track id and smoothed belief when smoothing; a frame without faces gets one row
    with only frame and t, so no frame goes missing."""
    base = {"frame": str(result.index), "t": f"{result.t:.{TIME_DECIMALS}f}"}
    if not result.faces:
        return [dict(base)]
    rows = []
    for number, face in enumerate(result.faces):
        box = face.detection
        row = {**base, "face": str(number), "x": str(box.x), "y": str(box.y), "w": str(box.w), "h": str(box.h)}
        row.update({column: f"{p:.{PROB_DECIMALS}f}" for column, p in zip(PROB_COLUMNS, face.probs, strict=True)})
        row["label"] = face.label
        if face.belief is not None:
            row["track"] = str(face.track)
            row.update(
                {column: f"{p:.{PROB_DECIMALS}f}" for column, p in zip(SMOOTHED_PROB_COLUMNS, face.belief, strict=True)}
            )
            row["smoothed_label"] = CLASSES[face.shown_index]
        rows.append(row)
    return rows


class CsvWriter:
    """Writes rows as frames arrive and flushes after each frame, so a crash or a cut-off video loses nothing."""

    def __init__(self, path: str | Path, columns: Sequence[str] = COLUMNS) -> None:
        self.path = Path(path)
        self.columns = tuple(columns)
        self._file: TextIO = self.path.open("w", newline="", encoding="utf-8")
        self._writer = csv.DictWriter(self._file, fieldnames=self.columns, restval="", lineterminator="\n")
        self._writer.writeheader()
        self._file.flush()
        self.frames_written = 0

    def write_rows(self, rows: Sequence[Mapping[str, str]]) -> None:
        """Writes the rows of one frame and flushes."""
        self._writer.writerows(rows)
        self._file.flush()
        self.frames_written += 1

    def write_frame(self, result: FrameResult) -> None:
        """Writes the base columns of one frame (rows without extra columns)."""
        self.write_rows(frame_rows(result))

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> CsvWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
