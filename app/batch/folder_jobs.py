"""One video of a folder as a job: run whole or reported in one line, never raising, and marked complete by a record
written last, which `--resume` checks against the video, the settings and the outputs on disk. Local workers and
Ray tasks (app.batch.ray_runner) run the same job."""

from __future__ import annotations

import contextlib
import io
import json
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from app.batch.video import VideoJob, run_file
from app.engine.sources import SourceError
from app.errors import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    AppError,
    Stopped,
    stop_code,
    stop_word,
)
from models.file_names import readable

COMPLETE_SUFFIX = "_complete.json"
CSV_TAIL_BYTES = 4096  # enough to hold the last row of any CSV the app writes, to check it is whole


class Outcome(NamedTuple):
    """How one video went: its path, the exit code its own run would have had, a one-line message, and the warning
    lines its run printed (returned, not printed where it ran: a Ray task's stderr does not reach the user)."""

    path: Path
    code: int
    message: str
    warnings: tuple[str, ...] = ()


Runner = Callable[[Sequence[VideoJob], str | None], Iterator[Outcome]]


STOP_CODES = (EXIT_INTERRUPTED, EXIT_TERMINATED)  # a video's outcome when a stop cut it short


class FolderStopped(Stopped):
    """A stop that reached videos running apart (worker processes, Ray tasks): `cut` holds each cut video's outcome,
    for the stop's line."""

    def __init__(self, signum: int, cut: list[Outcome]) -> None:
        super().__init__(signum)
        self.cut = cut


def record_path(job: VideoJob) -> Path:
    return job.path.with_name(f"{job.path.stem}{COMPLETE_SUFFIX}")


def job_settings(job: VideoJob, weights: str | None) -> dict[str, Any]:
    """What the outputs depend on besides the video: a resumed run with other settings redoes the video."""
    # Imported here: a local worker unpickles this module when it starts, and must not spend that time loading torch
    # (a stop arriving then would print torch's traceback instead of the one-line error).
    from models.classifier import DEFAULT_WEIGHTS

    weights_path = Path(weights) if weights else DEFAULT_WEIGHTS
    return {
        "smoother": job.smoother,
        "offline": job.offline,
        "drop": job.drop,
        "seed": job.seed,
        "realtime": job.realtime,
        "weights": str(weights_path.resolve()),
        "weights_bytes": weights_path.stat().st_size if weights_path.is_file() else None,
    }


def input_identity(path: Path) -> dict[str, int]:
    stat = path.stat()
    return {"bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def output_sizes(job: VideoJob) -> dict[str, int]:
    return {path.name: path.stat().st_size for path in job.outputs()}


def write_whole(path: Path, text: str) -> None:
    """Written beside the file, then renamed into place: a crash or a stop never leaves half of it."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(readable(text), encoding="utf-8", newline="")  # the text's own line ends, on every system
    os.replace(partial, path)


def write_record(job: VideoJob, weights: str | None, frames: int) -> None:
    """The completion record, written last and whole, naming each output's size."""
    record = {
        "video": job.path.name,
        "input": input_identity(job.path),
        "settings": job_settings(job, weights),
        "frames": frames,
        "outputs": output_sizes(job),
    }
    write_whole(record_path(job), json.dumps(record, indent=2) + "\n")


def is_complete(job: VideoJob, weights: str | None) -> bool:
    """Whether the video's outputs are complete: checked against its record and the files, not assumed."""
    try:
        record = json.loads(record_path(job).read_text(encoding="utf-8"))
        if record["input"] != input_identity(job.path) or record["settings"] != job_settings(job, weights):
            return False
        if record["outputs"] != output_sizes(job):
            return False
        if job.summary is not None and not isinstance(json.loads(job.summary.read_text(encoding="utf-8")), dict):
            return False  # the folder's summary.csv reads it: damaged (ValueError below) or not a summary, not done
        return last_frame(job.csv) == record["frames"] - 1
    except (OSError, ValueError, KeyError, TypeError):  # missing or damaged record or output: not complete
        return False


def last_frame(path: Path) -> int | None:
    """The frame number of the CSV's last row, or None when its last row is not whole (no final newline)."""
    with path.open("rb") as file:
        size = file.seek(0, os.SEEK_END)
        file.seek(max(0, size - CSV_TAIL_BYTES))
        tail = file.read()
    if not tail.endswith(b"\n"):
        return None
    last = tail.rstrip(b"\n").rsplit(b"\n", 1)[-1]
    return int(last.split(b",", 1)[0])


def run_folder_job(job: VideoJob, weights: str | None, threads: int) -> Outcome:
    """One video into its outputs, then its completion record; never raises, so one bad file cannot stop the rest.
    This is what a local worker and a Ray task run; what the run prints to stderr (its warnings) comes back with the
    outcome, for the command to print beside the video's own line."""
    try:
        record_path(job).unlink(missing_ok=True)  # outputs about to be rewritten are not complete until done again
    except OSError as error:  # e.g. a folder in its place
        return Outcome(job.path, EXIT_ERROR, f"cannot replace {record_path(job)}: {error.strerror or error}")
    printed = io.StringIO()
    with contextlib.redirect_stderr(printed):
        code, message = run_job(job, weights, threads)
    return Outcome(job.path, code, message, tuple(line for line in printed.getvalue().splitlines() if line))


def run_job(job: VideoJob, weights: str | None, threads: int) -> tuple[int, str]:
    """run_folder_job's (exit code, message) of one video's run and record."""
    try:
        written = run_file(job, weights, show_progress=False, threads=threads)
        write_record(job, weights, written.frames)
    except (AppError, SourceError) as error:
        return getattr(error, "code", EXIT_ERROR), str(error)
    except KeyboardInterrupt as stop:  # a stop between frames, outside the writing loop
        return stop_code(stop), stop_word(stop)
    except Exception as error:  # one line per file, as the promise goes
        return EXIT_ERROR, f"unexpected {type(error).__name__}: {error}"
    dropped = f" ({written.dropped} dropped)" if job.flags_drops else ""
    return EXIT_OK, f"{written.frames} frames{dropped}"
