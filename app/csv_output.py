"""The per-frame, per-face CSV: its columns and row building live here only, so later columns extend one place.

A smoother adds its columns by passing `columns=COLUMNS + (...)` to CsvWriter and filling those keys in the row
dicts that frame_rows() returns; missing keys are written empty.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from app.pipeline import FrameResult
from models.labels import CLASSES

PROB_COLUMNS: tuple[str, ...] = tuple(f"p_{name}" for name in CLASSES)
COLUMNS: tuple[str, ...] = ("frame", "t", "face", "x", "y", "w", "h", *PROB_COLUMNS, "label")
PROB_DECIMALS = 5
TIME_DECIMALS = 4  # 0.1 ms, finer than any container's timestamps

Row = dict[str, str]


def frame_rows(result: FrameResult) -> list[Row]:
    """One row per face; a frame without faces gets one row with only frame and t, so no frame goes missing."""
    base = {"frame": str(result.index), "t": f"{result.t:.{TIME_DECIMALS}f}"}
    if not result.faces:
        return [dict(base)]
    rows = []
    for number, face in enumerate(result.faces):
        box = face.detection
        row = {**base, "face": str(number), "x": str(box.x), "y": str(box.y), "w": str(box.w), "h": str(box.h)}
        row.update({column: f"{p:.{PROB_DECIMALS}f}" for column, p in zip(PROB_COLUMNS, face.probs, strict=True)})
        row["label"] = face.label
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
