"""Folders of videos: every video's outputs beside it, on local worker processes or Ray tasks, resumable, with one
summary.csv over the folder.

A video's outputs count as complete only when its completion record (`<stem>_complete.json`, written last) matches
the video, the settings and the outputs on disk, so `--resume` redoes a video that a crash, a stop or a full disk
cut short, and skips one that is done.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import signal
import sys
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from multiprocessing import active_children, get_context
from pathlib import Path
from types import FrameType
from typing import Any

try:
    import fcntl  # POSIX: Linux and macOS
except ImportError:  # Windows
    fcntl = None

from app.batch.folder_jobs import (
    STOP_CODES,
    FolderStopped,
    Outcome,
    Runner,
    is_complete,
    record_path,
    run_folder_job,
    write_whole,
)
from app.batch.ray_runner import ray_runner
from app.batch.video import VideoJob, check_job_options
from app.errors import (
    EXIT_ERROR,
    EXIT_OK,
    EXIT_PARTIAL,
    SIGNAL_EXIT_BASE,
    STOP_WORDS,
    AppError,
    Stopped,
    stop_code,
    stop_word,
)
from app.output.paths import folder_files, prepare_output
from models.file_names import readable
from smoothing.labels import CLASSES

# What a folder run takes as videos: the containers OpenCV's FFmpeg reads that cameras, phones (3GP), camcorders
# (MPEG-2 and AVCHD transport streams), and screen or web exports write. A single file is tried whatever its ending.
VIDEO_EXTENSIONS = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".3gp", ".mpg", ".mpeg", ".mts", ".m2ts", ".wmv",
                    ".flv", ".ogv")  # fmt: skip
ANNOTATED_SUFFIX = "_annotated"  # outputs of an earlier run lie beside the inputs: never take them as inputs
TIMELINE_SUFFIX = "_timeline.png"  # a folder run's timeline of NAME.mp4: NAME_timeline.png beside it
SUMMARY_CSV = "summary.csv"
SUMMARY_COLUMNS = (
    "video", "smoother", "track", "frames", "seconds", "dominant",
    *(f"share_{name}" for name in CLASSES), "switches", "switches_per_minute",
)  # fmt: skip
NOT_STARTED = "before it started"  # a queued video's outcome when the stop reached its worker first


def folder_videos(folder: Path) -> list[Path]:
    """The videos of a folder (not its subfolders or hidden files), skipping annotated videos an earlier run wrote
    there."""
    return sorted(
        path
        for path in folder_files(folder)
        if path.suffix.lower() in VIDEO_EXTENSIONS and not path.stem.endswith(ANNOTATED_SUFFIX)
    )


def annotated_hint(folder: Path) -> str:
    """Why a folder of only NAME_annotated videos reads as empty: those names are this app's outputs."""
    videos = [path for path in folder.iterdir() if path.suffix.lower() in VIDEO_EXTENSIONS]
    if any(path.stem.endswith(ANNOTATED_SUFFIX) for path in videos):
        return f" (videos named *{ANNOTATED_SUFFIX}.* are this app's outputs and are skipped; rename yours)"
    return ""


def folder_job(path: Path, template: VideoJob) -> VideoJob:
    """The job for one video of a folder: every output beside the video, named after it."""
    return replace(
        template,
        path=path,
        csv=path.with_suffix(".csv"),
        video=path.with_name(f"{path.stem}{ANNOTATED_SUFFIX}.mp4"),
        timeline=path.with_name(f"{path.stem}{TIMELINE_SUFFIX}"),
        summary=path.with_name(f"{path.stem}_summary.json"),
    )


# A worker process stops like the command does (its video's outputs closed whole) while it runs a video, and starts
# none of the videos already queued to it; idle, it leaves quietly, since an exception there would print the pool's
# traceback.
_worker_busy = False
_worker_stop: int | None = None  # the signal that stopped this worker


def _worker_signal(signum: int, _frame: FrameType | None) -> None:
    global _worker_stop
    first = _worker_stop is None
    _worker_stop = signum if first else _worker_stop
    if not _worker_busy:
        raise SystemExit(stop_code(Stopped(signum)))
    if first:  # later signals arrive while the outputs are being closed: ignored, as in the command
        raise Stopped(signum)


def _start_worker() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _worker_signal)


def _run_in_worker(job: VideoJob, weights: str | None, threads: int) -> Outcome:
    global _worker_busy
    if _worker_stop is not None:
        stop = Stopped(_worker_stop)
        return Outcome(job.path, stop_code(stop), f"{stop_word(stop)} {NOT_STARTED}")
    _worker_busy = True
    try:
        return run_folder_job(job, weights, threads)
    finally:
        _worker_busy = False


def serial_runner(jobs: Sequence[VideoJob], weights: str | None) -> Iterator[Outcome]:
    """One video after another in this process, with all cores for the classifier."""
    threads = os.cpu_count() or 1
    for job in jobs:
        yield run_folder_job(job, weights, threads)


def cut_outcomes(futures: Sequence[Future[Outcome]]) -> list[Outcome]:
    """The outcomes of the videos a stop cut short, once their workers have closed them (each waited for)."""
    outcomes = []
    for future in futures:
        if future.cancelled():
            continue
        try:
            outcome = future.result()
        except (Exception, KeyboardInterrupt):  # a worker that died with the stop tells nothing more
            continue
        if outcome.code in STOP_CODES and not outcome.message.endswith(NOT_STARTED):
            outcomes.append(outcome)
    return outcomes


def process_runner(workers: int) -> Runner:
    """`workers` videos at a time in local worker processes, the cores shared between them."""

    def run(jobs: Sequence[VideoJob], weights: str | None) -> Iterator[Outcome]:
        threads = max(1, (os.cpu_count() or 1) // workers)
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"), initializer=_start_worker)
        futures: list[Future[Outcome]] = [pool.submit(_run_in_worker, job, weights, threads) for job in jobs]
        try:
            yield from (future.result() for future in as_completed(futures))
        except KeyboardInterrupt as stop:  # hand the stop on to the workers; they close their videos whole
            pool.shutdown(wait=False, cancel_futures=True)
            for child in active_children():
                if child.pid is not None:
                    os.kill(child.pid, getattr(stop, "signum", signal.SIGINT))
            raise FolderStopped(getattr(stop, "signum", signal.SIGINT), cut_outcomes(futures)) from None
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    return run


@dataclass(frozen=True)
class FolderRun:
    """How a folder is processed: `workers` at a time (None: one locally, every CPU on Ray), resuming or not, and on
    Ray when `ray` is set ("" for a local Ray instance, else the address of a cluster's head)."""

    workers: int | None = None
    resume: bool = False
    ray: str | None = None


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Held while a run writes into the folder: a second run started there meanwhile (on this machine) is refused,
    where it had written into the same CSVs as the first, each record then vouching for rows the other wrote. The
    lock is the folder's own (flock on it), so no file is left behind; where the system has none, there is none."""
    if fcntl is None:
        yield
        return
    handle = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            message = f"another run is writing into {folder}; wait for it to end, or give each run its own folder"
            raise AppError(message) from None
        yield
    finally:
        os.close(handle)  # releases the lock


def run_folder(folder: Path, template: VideoJob, weights: str | None, how: FolderRun) -> int:
    """Every video of the folder into outputs beside it, then the folder's summary.csv; a bad file is reported in one
    line and the rest go on. Returns the exit code: 0, EXIT_PARTIAL when some failed, or the stop's code."""
    with folder_lock(folder):
        return run_locked_folder(folder, template, weights, how)


def run_locked_folder(folder: Path, template: VideoJob, weights: str | None, how: FolderRun) -> int:
    """run_folder's work, with the folder to itself."""
    from tqdm import tqdm

    videos = folder_videos(folder)
    if not videos:
        raise AppError(f"no videos ({', '.join(VIDEO_EXTENSIONS)}) in {folder}{annotated_hint(folder)}")
    clash = [path for path in videos if path.with_suffix(".csv").name == SUMMARY_CSV]
    if clash:
        raise AppError(f"{clash[0].name}'s CSV would overwrite the folder's {SUMMARY_CSV}; rename the video")
    check_job_options(template, weights)
    jobs = [folder_job(path, template) for path in videos]
    check_distinct_outputs(jobs)
    prepare_output(folder / SUMMARY_CSV)  # a folder in its place fails now, not after every video
    todo = [job for job in jobs if not (how.resume and is_complete(job, weights))]
    if len(todo) < len(jobs):
        print(f"{len(jobs) - len(todo)} of {len(jobs)} videos already complete, skipped (--resume)", flush=True)
    runner = pick_runner(how)
    failed = 0
    stopped: KeyboardInterrupt | None = None
    cut: list[Outcome] = []  # the videos the stop cut short
    with tqdm(total=len(todo), unit="video", file=sys.stderr, disable=None, leave=False) as bar:
        try:
            for outcome in runner(todo, weights) if todo else iter(()):
                if outcome.code in STOP_CODES:  # the stop reached a video first: the rest are not started
                    stopped, cut = Stopped(outcome.code - SIGNAL_EXIT_BASE), [outcome]
                    break
                failed += report(outcome, bar)
                bar.update(1)
        except KeyboardInterrupt as stop:
            stopped, cut = stop, getattr(stop, "cut", [])
    write_folder_summary(folder, jobs, weights)
    if stopped is not None:  # one line for the stop, as for a single video
        what = "".join(f" {outcome.path.name}: {cut_message(outcome)};" for outcome in cut)
        summary = folder / SUMMARY_CSV
        print(f"error: {stop_word(stopped)};{what} the complete videos are in {summary}", file=sys.stderr)
        return stop_code(stopped)
    if failed and failed == len(jobs):  # not one video of the folder has its outputs
        return EXIT_ERROR
    return EXIT_PARTIAL if failed else EXIT_OK


def cut_message(outcome: Outcome) -> str:
    """What a stop left of a video, without the stop's word (the line starts with it; a Ray task's own stop is
    always an interrupt, whatever signal the command got)."""
    message = outcome.message
    for word in STOP_WORDS.values():
        message = message.removeprefix(f"{word}; ")
    return message


def check_distinct_outputs(jobs: Sequence[VideoJob]) -> None:
    """Two videos of one name and different endings (a.mp4, a.avi) would write the same outputs beside them, the
    second over the first (or both at once, with workers): refused before any work."""
    owner: dict[Path, Path] = {}
    for job in jobs:
        for output in (*job.outputs(), record_path(job)):
            if output in owner:
                raise AppError(f"{owner[output].name} and {job.path.name} would both write {output.name}; rename one")
            owner[output] = job.path


def pick_runner(how: FolderRun) -> Runner:
    if how.ray is not None:
        return ray_runner(how.ray or None, how.workers)
    if how.workers is None or how.workers == 1:
        return serial_runner
    return process_runner(how.workers)


def report(outcome: Outcome, bar: Any) -> int:
    """One line for a finished video (errors on stderr) after its run's warnings, printed above the progress bar; 1
    when it failed."""
    for line in outcome.warnings:
        bar.write(line, file=sys.stderr)
    if outcome.code == EXIT_OK:
        bar.write(f"{readable(outcome.path)}: {outcome.message} written beside it", file=sys.stdout)
        return 0
    name = readable(outcome.path)
    where = "" if name in outcome.message else f"{name}: "
    bar.write(f"error: {where}{outcome.message} (skipped)", file=sys.stderr)
    return 1


def summary_rows(job: VideoJob) -> list[dict[str, str]]:
    """The folder summary's rows of one complete video, from its JSON summary: one per track (one without a track
    when no face was seen, so that no video goes missing)."""
    assert job.summary is not None
    document = json.loads(job.summary.read_text(encoding="utf-8"))
    base = {"video": job.path.name, "smoother": document["smoother"] or ""}
    rows = []
    for track in document["tracks"]:
        row = {**base, **{key: str(track[key]) for key in ("track", "frames", "seconds", "dominant", "switches")}}
        row.update({f"share_{name}": str(share) for name, share in track["share"].items()})
        row["switches_per_minute"] = str(track["switches_per_minute"])
        rows.append(row)
    return rows or [{**base, "frames": "0", "seconds": "0"}]


def write_folder_summary(folder: Path, jobs: Iterable[VideoJob], weights: str | None) -> Path:
    """summary.csv over the folder's complete videos (also those of earlier, resumed runs), written whole."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=SUMMARY_COLUMNS, restval="", lineterminator="\n")
    writer.writeheader()
    for job in jobs:
        if is_complete(job, weights):
            writer.writerows(summary_rows(job))
    path = folder / SUMMARY_CSV
    write_whole(path, text.getvalue())
    return path
