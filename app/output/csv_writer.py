"""The per-frame, per-face CSV: its columns and row building live here only, so later columns extend one place.

With a smoother, SMOOTHED_COLUMNS appends the track id, the smoothed belief and the observed flag, filled for faces
that have a belief, and every live track whose face a frame did not show gets a predicted row; other extra columns
work the same way (`columns=COLUMNS + (...)` and `frame_rows(result, extra)`); missing keys are written empty.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

from app.engine.results import FaceResult, FrameResult
from app.errors import AppError, frames_written
from models.face_detector import Detection
from models.file_names import readable
from smoothing.labels import CLASSES

PROB_COLUMNS: tuple[str, ...] = tuple(f"p_{name}" for name in CLASSES)
COLUMNS: tuple[str, ...] = ("frame", "t", "face", "x", "y", "w", "h", *PROB_COLUMNS, "label")
PROB_DECIMALS = 5
TIME_DECIMALS = 4  # 0.1 ms, finer than any container's timestamps
UNCLASSIFIED = "unclassified"  # the label of a face found whose classifier output was not finite (NaN)


def unclassified_warning(faces: int, source: str | Path, csv: str | Path) -> str:
    """The one line that tells the user some faces were found but not classified (broken weights or input)."""
    return (
        f"warning: {faces} faces of {source} could not be classified (the classifier gave NaN); their rows in {csv} "
        f"have nan probabilities and the label {UNCLASSIFIED}"
    )


SMOOTHED_PROB_COLUMNS: tuple[str, ...] = tuple(f"s_{name}" for name in CLASSES)
# With a smoother the raw columns come first, unchanged, then the track id, the smoothed belief and whether the
# face was seen in this frame (1) or its belief predicted to the frame's time (0: missed, or the frame dropped).
SMOOTHED_COLUMNS: tuple[str, ...] = (*COLUMNS, "track", *SMOOTHED_PROB_COLUMNS, "smoothed_label", "observed")
# A still image has no frame number or time: its file names it.
IMAGE_COLUMNS: tuple[str, ...] = ("file", *(column for column in COLUMNS if column not in ("frame", "t")))

Row = dict[str, str]
# Beside the columns when some frames were not analysed (--drop, --realtime, live): 1 on such a frame, whose tracks
# are only predicted (no smoother saw it), 0 on the others.
DROPPED_COLUMN = "dropped"


def dropped_cell(result: FrameResult) -> Row:
    """The dropped column of a frame's rows (frame_rows' `extra`)."""
    return {DROPPED_COLUMN: str(int(result.dropped))}


def frame_rows(result: FrameResult, extra: Row | None = None) -> list[Row]:
    """One row per face, with its track id and smoothed belief when smoothing; a face whose classification failed
    gets its box, `nan` probabilities and the label UNCLASSIFIED; then one row per live track predicted to t (its
    last box, no raw probabilities, observed 0); a frame without any gets one row with only frame and t, so no frame
    goes missing. `extra` columns (dropped, the live smoother) go on every row of the frame."""
    base = {"frame": str(result.index), "t": f"{result.t:.{TIME_DECIMALS}f}", **(extra or {})}
    rows = []
    for face in result.faces:
        row = {**base, **box_columns(face.detection)}
        row.update({column: f"{p:.{PROB_DECIMALS}f}" for column, p in zip(PROB_COLUMNS, face.probs, strict=True)})
        row["label"] = face.label
        if face.belief is not None:
            row.update(belief_columns(face))
        rows.append(row)
    for detection in result.unclassified:
        rows.append({**base, **box_columns(detection), **dict.fromkeys(PROB_COLUMNS, "nan"), "label": UNCLASSIFIED})
    for number, row in enumerate(rows):
        row["face"] = str(number)  # the faces found, left to right; a predicted row is no face of this frame
    predicted = [face for face in result.shown_faces if not face.observed]
    rows += [{**base, **box_columns(face.detection), **belief_columns(face)} for face in predicted]
    return rows or [base]


def image_rows(file: str, result: FrameResult) -> list[Row]:
    """frame_rows() of a still image: `file` in place of frame and t."""
    return [{"file": file, **{k: v for k, v in row.items() if k not in ("frame", "t")}} for row in frame_rows(result)]


def belief_columns(face: FaceResult) -> Row:
    """A tracked face's track id, smoothed belief and label, and whether it was seen in this frame."""
    assert face.belief is not None
    beliefs = {column: f"{p:.{PROB_DECIMALS}f}" for column, p in zip(SMOOTHED_PROB_COLUMNS, face.belief, strict=True)}
    observed = str(int(face.observed))
    return {"track": str(face.track), **beliefs, "smoothed_label": CLASSES[face.shown_index], "observed": observed}


def box_columns(box: Detection) -> Row:
    return {"x": str(box.x), "y": str(box.y), "w": str(box.w), "h": str(box.h)}


class CsvWriter:
    """Writes each frame's rows as they come, straight to the file (no buffer to lose in a crash), all or nothing: a
    write that fails (disk full) or is cut by a signal leaves the file ending at the last whole frame, and the writer
    then refuses later frames, so the count its error gave stays the file's (a shorter frame could still fit)."""

    def __init__(self, path: str | Path, columns: Sequence[str] = COLUMNS) -> None:
        self.path = Path(path)
        self.columns = tuple(columns)
        try:
            self._file: BinaryIO = self.path.open("wb", buffering=0)
        except OSError as error:  # a read-only folder, a name the file system refuses
            raise AppError(f"cannot write {self.path}: {error.strerror or error}") from None
        self._text = io.StringIO()
        self._writer = csv.DictWriter(self._text, fieldnames=self.columns, restval="", lineterminator="\n")
        self.frames_written = 0
        self._whole_bytes = 0  # the file's length after the last whole frame
        self._failure: str | None = None  # the error of the write that failed; later frames get it too
        try:
            self._writer.writeheader()
            self._append()
        except OSError as error:  # a full disk before the first frame: the same line as for a later frame
            self.close()
            raise AppError(self.failure(error)) from None
        except BaseException:
            self.close()
            raise

    def write_rows(self, rows: Sequence[Mapping[str, str]]) -> None:
        """Writes the rows of one frame; when writing fails (a full disk), the file is cut back to the frames before
        and AppError says how many it holds, as it does for every frame offered after."""
        if self._failure is not None:
            raise AppError(self._failure)
        self._writer.writerows(rows)
        try:
            self._append()
        except OSError as error:
            self._failure = self.failure(error)
            raise AppError(self._failure) from None
        self.frames_written += 1

    def failure(self, error: OSError) -> str:
        """The error line of a write that failed: the file, why, and how many whole frames it holds."""
        return f"cannot write {self.path}: {error.strerror or error}; {frames_written(self.frames_written)}"

    def _append(self) -> None:
        data = readable(self._text.getvalue()).encode("utf-8")  # a file name of non-UTF-8 bytes as \xNN
        self._text.seek(0)
        self._text.truncate()
        try:
            view = memoryview(data)
            while view:  # a raw write may take only part of the data
                view = view[self._file.write(view) :]
        except BaseException:
            self._cut_back()
            raise
        self._whole_bytes += len(data)

    def _cut_back(self) -> None:
        """Drops a half-written frame; truncating needs no free space, so this works on a full disk too."""
        try:
            self._file.truncate(self._whole_bytes)
            self._file.seek(self._whole_bytes)
        except OSError:
            pass  # the rows before are on disk either way; nothing better to do here

    def write_frame(self, result: FrameResult) -> None:
        """Writes the base columns of one frame (rows without extra columns)."""
        self.write_rows(frame_rows(result))

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> CsvWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
