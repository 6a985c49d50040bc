"""The live session as JSON lines, one per frame the live CSV has rows for, each flushed as it is written, so that
another program can follow the session while it runs (`live --jsonl FILE`, or `--jsonl -` for stdout)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, TextIO

from app.engine.results import FaceResult, FrameResult
from app.errors import AppError, frames_written
from app.output.csv_writer import PROB_DECIMALS, TIME_DECIMALS
from app.output.paths import prepare_output
from smoothing.labels import CLASSES

STDOUT = "-"  # `--jsonl -`: the lines go to stdout, and every other line the run prints goes to stderr


def probabilities(values: Any) -> dict[str, float] | None:
    """{class: probability}, rounded as in the CSV; None where there are none (a predicted face's raw ones)."""
    if values is None:
        return None
    return {name: round(float(p), PROB_DECIMALS) for name, p in zip(CLASSES, values, strict=True)}


def face_record(face: FaceResult) -> dict[str, Any]:
    """One face: its track, box, raw and smoothed probabilities and labels, and whether this frame saw it (observed)
    or its belief was predicted to the frame's time."""
    return {
        "track": face.track,
        "box": list(face.detection.box),
        "observed": face.observed,
        "probs": probabilities(face.probs),
        "label": face.label if face.observed else None,
        "smoothed": probabilities(face.belief),
        "smoothed_label": CLASSES[face.shown_index] if face.belief is not None else None,
    }


def frame_record(result: FrameResult, smoother: str | None) -> dict[str, Any]:
    """One frame: its capture number, its time in seconds since the session began (the CSV's t), whether analysis
    passed over it (dropped: its faces are all predicted), the smoother running, and its faces, those seen first
    (left to right), then the live tracks predicted to t."""
    return {
        "frame": result.index,
        "t": round(result.t, TIME_DECIMALS),
        "dropped": result.dropped,
        "smoother": smoother or None,
        "faces": [face_record(face) for face in result.shown_faces],
    }


class JsonlWriter:
    """Writes one JSON line per frame and flushes it at once; a file is opened here, stdout is only borrowed."""

    def __init__(self, stream: TextIO, name: str, owned: bool) -> None:
        self.stream, self.name, self.owned = stream, name, owned
        self.frames_written = 0
        self._refusal: str | None = None  # a failed write's line: every later frame gets it, and closing says no more

    def write(self, result: FrameResult, smoother: str | None) -> None:
        """One frame's line, flushed; a reader that went away or a full disk is an AppError, for this frame and every
        later one, so that the other outputs end where this one did."""
        if self._refusal is not None:
            raise AppError(self._refusal)
        line = json.dumps(frame_record(result, smoother), separators=(",", ":"))
        try:
            self.stream.write(line + "\n")
            self.stream.flush()
        except BrokenPipeError:
            self._drop_stdout()
            self._refusal = f"the program reading {self.name} closed it; {frames_written(self.frames_written)}"
            raise AppError(self._refusal) from None
        except OSError as error:
            self._drop_stdout()
            self._refusal = self.failure(error)
            raise AppError(self._refusal) from None
        self.frames_written += 1

    def _drop_stdout(self) -> None:
        """Points stdout at /dev/null once its reader is gone (or its disk is full), so that Python's own flush at exit
        does not fail a second time with a traceback (the recipe of Python's signal documentation)."""
        if not self.owned:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.stream.fileno())

    def failure(self, error: OSError) -> str:
        """The error line of a write that failed: where, why, and how many frames were written."""
        return f"cannot write {self.name}: {error.strerror or error}; {frames_written(self.frames_written)}"

    def close(self) -> None:
        """Closes a file (its line that failed to write is not tried again); stdout is only flushed, as it is the
        process's."""
        try:
            if self.owned:
                self.stream.close()
            else:
                self.stream.flush()
        except BrokenPipeError:
            self._drop_stdout()
        except OSError as error:
            self._drop_stdout()
            if self._refusal is None:
                raise AppError(self.failure(error)) from None


def open_jsonl(target: str, stdout: TextIO) -> JsonlWriter:
    """The writer for `--jsonl TARGET`: a file path, or STDOUT for `stdout` (passed in, since the live command points
    sys.stdout at stderr while the lines own stdout)."""
    if target == STDOUT:
        return JsonlWriter(stdout, "stdout", owned=False)
    path = prepare_output(Path(target))
    try:
        return JsonlWriter(path.open("w", encoding="utf-8"), str(path), owned=True)
    except OSError as error:
        raise AppError(f"cannot write {path}: {error.strerror or error}") from None
