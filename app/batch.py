"""Video files to outputs: per-frame CSV, annotated video, timeline PNG and JSON summary, one file or a folder.

Rows are written (and flushed) as frames come, so a truncated file or Ctrl+C keeps everything already read;
offline smoothing is the exception: it needs the whole file and writes at the end.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from app.errors import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_PARTIAL, AppError
from app.outputs import prepare_output
from app.sources import SourceError, VideoFileSource

if TYPE_CHECKING:
    from app.pipeline import Pipeline
    from app.results import FaceResult, FrameResult

VIDEO_EXTENSIONS = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v")
ANNOTATED_SUFFIX = "_annotated"  # outputs of an earlier run lie beside the inputs: never take them as inputs


class Progress(Protocol):
    """The part of a tqdm bar that process() uses."""

    def update(self, n: int = 1) -> object: ...


@dataclass(frozen=True)
class VideoJob:
    """One video and everything to make of it."""

    path: Path
    csv: Path
    video: Path | None = None
    timeline: Path | None = None
    summary: Path | None = None
    smoother: str | None = None
    offline: bool = False
    drop: float = 0.0  # share of frames dropped at random before processing, to see how a smoother copes
    seed: int = 0
    realtime: bool = False  # play the file in real time and drop what this machine cannot keep up with

    @property
    def flags_drops(self) -> bool:
        return self.drop > 0 or self.realtime

    def outputs(self) -> list[Path]:
        return [p for p in (self.csv, self.video, self.timeline, self.summary) if p is not None]


@dataclass
class Recording:
    """Each frame's time and tracked faces, kept for the timeline and the summary."""

    times: list[float] = field(default_factory=list)
    tracked: list[list[FaceResult]] = field(default_factory=list)


def check_smoother(name: str | None, offline: bool = False) -> None:
    """Refuses an unknown smoother name, or one whose parameter files are missing or damaged, in one line naming
    the file, before the first frame."""
    if name is None:
        return
    import smoothing

    try:
        smoothing.check_loadable(name, offline)  # an unknown name too: the registry's own one-line ValueError
    except ValueError as error:  # smoothing.ParamsError is one
        raise AppError(str(error)) from None


def realtime_frames(pipeline: Pipeline, source: VideoFileSource) -> Iterator[tuple[FrameResult, np.ndarray]]:
    """The file played in real time as the live app would see it: only the newest frame is processed when the
    previous one is done; the frames skipped meanwhile come out as dropped results."""
    from app.capture import LatestFrameCapture

    capture = LatestFrameCapture(source, paced=True, keep_times=True).start()
    pipeline.reset()
    next_index = 0
    try:
        while (captured := capture.latest()) is not None:
            for skipped in range(next_index, captured.index):
                yield pipeline.skip(skipped, capture.source_times[skipped]), captured.frame
            next_index = captured.index + 1
            yield pipeline.process(captured.index, captured.source_t, captured.frame), captured.frame
    finally:
        capture.stop()


def process(
    results: Iterable[tuple[FrameResult, np.ndarray | None]],
    job: VideoJob,
    fps: float,
    size: tuple[int, int],
    progress: Progress | None = None,
    recording: Recording | None = None,
) -> tuple[int, int]:
    """Writes each frame's rows (flushed) and drawn frame as it comes; returns (frames written, frames dropped). A
    dropped frame gets a row flagged dropped and repeats the last drawn frame in the video.
    """
    from app.annotate import AnnotatedVideoWriter, VideoOutputError, draw_result
    from app.csv_output import COLUMNS, SMOOTHED_COLUMNS, CsvWriter, frame_rows

    columns = (*(SMOOTHED_COLUMNS if job.smoother else COLUMNS), *(("dropped",) if job.flags_drops else ()))
    video = None
    try:
        if job.video is not None:
            video = AnnotatedVideoWriter(job.video, fps, size)
        csv_file = CsvWriter(job.csv, columns)
    except VideoOutputError as error:
        raise AppError(f"{error} (unwritable path, or an extension OpenCV cannot encode; use .mp4)") from None
    except OSError as error:
        if video is not None:
            video.close()
        raise AppError(f"cannot write {job.csv}: {error.strerror or error}") from None
    dropped = 0
    last_drawn: np.ndarray | None = None
    try:
        for result, frame in results:
            is_dropped = result.dropped
            dropped += is_dropped
            rows = frame_rows(result)
            if job.flags_drops:
                for row in rows:
                    row["dropped"] = str(int(is_dropped))
            try:
                csv_file.write_rows(rows)
            except OSError as error:  # only the writer's failures are "cannot write"
                raise AppError(
                    f"cannot write {job.csv}: {error.strerror or error}; {csv_file.frames_written} frames were written"
                ) from None
            if recording is not None:
                recording.times.append(result.t)
                recording.tracked.append(result.faces)
            if video is not None and frame is not None:
                if not is_dropped or last_drawn is None:
                    last_drawn = draw_result(frame, result)
                video.write(last_drawn)
            if progress is not None:
                progress.update(1)
    except KeyboardInterrupt:
        raise AppError(
            f"interrupted; {csv_file.frames_written} frames were written to {job.csv}", EXIT_INTERRUPTED
        ) from None
    finally:
        csv_file.close()
        if video is not None:
            video.close()
    return csv_file.frames_written, dropped


def collect_offline(
    results: Iterable[tuple[FrameResult, np.ndarray]], smoother: str, progress: Progress | None
) -> tuple[list[FrameResult], bool]:
    """Every frame's result (tracked, not yet smoothed), smoothed per track at the end; and whether Ctrl+C cut the
    reading short."""
    from app.offline import smooth_tracks_offline

    kept: list[FrameResult] = []
    interrupted = False
    try:
        for result, _ in results:
            kept.append(result)
            if progress is not None:
                progress.update(1)
    except KeyboardInterrupt:
        interrupted = True
    return smooth_tracks_offline(smoother, kept), interrupted


def replay(results: list[FrameResult], video: Path | None) -> Iterator[tuple[FrameResult, np.ndarray | None]]:
    """Stored results with their frames decoded again from the video (for drawing), or with None when not drawing."""
    if video is None:
        yield from ((result, None) for result in results)
        return
    source = VideoFileSource(video)
    try:
        for result, (_, _, frame) in zip(results, source, strict=False):
            yield result, frame
    finally:
        source.close()


def run_file(
    job: VideoJob, weights: str | None, show_progress: bool | None = None, threads: int | None = None
) -> tuple[int, int]:
    """The whole file into its outputs; returns (frames written, frames dropped). AppError on failure, after
    writing what was read.

    show_progress None shows a bar only on a terminal; threads None keeps the classifier's default.
    """
    from tqdm import tqdm

    from app.pipeline import Pipeline
    from app.weights import CLASSIFIER_THREADS, load_weights

    check_smoother(job.smoother, job.offline)
    if job.offline and job.smoother is None:
        raise AppError("--offline needs --smoother NAME")
    if not 0 <= job.drop < 1:
        raise AppError(f"--drop must be at least 0 and below 1, got {job.drop}")
    if job.realtime and job.drop > 0:
        raise AppError("--realtime drops what it cannot keep up with; leave out --drop")
    source = VideoFileSource(job.path)  # input and output paths are checked before the slow torch import
    for path in job.outputs():
        prepare_output(path, job.path)
    classifier = load_weights(weights, threads or CLASSIFIER_THREADS)
    progress = tqdm(
        total=source.frame_count,
        unit="frame",
        desc=job.path.name,
        file=sys.stderr,
        disable=None if show_progress is None else not show_progress,
        leave=False,
    )
    recording = Recording() if job.timeline is not None or job.summary is not None else None  # memory only if needed
    interrupted = False
    try:
        pipeline = Pipeline(classifier, None if job.offline else job.smoother)
        results = realtime_frames(pipeline, source) if job.realtime else pipeline.run(source, job.drop, job.seed)
        if job.offline and job.smoother is not None:
            smoothed, interrupted = collect_offline(results, job.smoother, progress)
            replayed = replay(smoothed, job.path if job.video is not None else None)
            frames, dropped = process(replayed, job, source.fps, source.size, recording=recording)
        else:
            frames, dropped = process(results, job, source.fps, source.size, progress, recording)
    finally:
        progress.close()
        source.close()
    if recording is not None:
        write_reports(job, recording)
    if interrupted:
        raise AppError(f"interrupted; {frames} frames were written to {job.csv}", EXIT_INTERRUPTED)
    if source.ended_early():
        raise AppError(
            f"{job.path} ended after {frames} of {source.frame_count} frames (truncated or damaged); "
            f"the rows of those {frames} frames are in {job.csv}",
            EXIT_PARTIAL,
        )
    return frames, dropped


def write_reports(job: VideoJob, recording: Recording) -> None:
    """The timeline PNG and the JSON summary, from what was recorded (also of a truncated file)."""
    if job.timeline is not None and recording.times:
        from app.timeline import write_timeline

        write_timeline(job.timeline, recording.times, recording.tracked, title=job.path.name)
    if job.summary is not None:
        from app.summary import summarize_tracks, write_summary

        write_summary(job.summary, job.path, job.smoother, summarize_tracks(recording.times, recording.tracked))


def folder_videos(folder: Path) -> list[Path]:
    """The videos of a folder (not its subfolders), skipping annotated videos an earlier run wrote there."""
    return sorted(
        path
        for path in folder.iterdir()
        if path.is_file() and path.suffix.lower() in VIDEO_EXTENSIONS and not path.stem.endswith(ANNOTATED_SUFFIX)
    )


def folder_job(path: Path, template: VideoJob) -> VideoJob:
    """The job for one video of a folder: every output beside the video, named after it."""
    return replace(
        template,
        path=path,
        csv=path.with_suffix(".csv"),
        video=path.with_name(f"{path.stem}{ANNOTATED_SUFFIX}.mp4"),
        timeline=path.with_name(f"{path.stem}_timeline.png"),
        summary=path.with_name(f"{path.stem}_summary.json"),
    )


def _run_one(job: VideoJob, weights: str | None, threads: int) -> tuple[Path, int, str]:
    """A worker's job: (video, exit code, message); never raises, so one bad file cannot stop the others."""
    try:
        frames, dropped = run_file(job, weights, show_progress=False, threads=threads)
    except (AppError, SourceError) as error:
        return job.path, getattr(error, "code", EXIT_ERROR), str(error)
    except Exception as error:  # one line per file, as the promise goes
        return job.path, EXIT_ERROR, f"unexpected {type(error).__name__}: {error}"
    return job.path, EXIT_OK, f"{frames} frames" + (f" ({dropped} dropped)" if job.flags_drops else "")


def run_folder(folder: Path, template: VideoJob, weights: str | None, workers: int) -> int:
    """Every video of the folder, `workers` at a time; a bad file is reported in one line and the rest go on."""
    videos = folder_videos(folder)
    if not videos:
        raise AppError(f"no videos ({', '.join(VIDEO_EXTENSIONS)}) in {folder}")
    check_smoother(template.smoother, template.offline)
    threads = max(1, (os.cpu_count() or 1) // workers)
    jobs = [folder_job(path, template) for path in videos]
    if workers == 1:
        outcomes = (_run_one(job, weights, threads) for job in jobs)
        return report_folder(outcomes, len(jobs))
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(_run_one, job, weights, threads) for job in jobs]
        return report_folder((future.result() for future in as_completed(futures)), len(jobs))


def report_folder(outcomes: Iterable[tuple[Path, int, str]], total: int) -> int:
    """One line per video as it finishes (errors on stderr); exit code 0, or partial when some failed."""
    failed = 0
    for path, code, message in outcomes:
        if code == EXIT_OK:
            print(f"{path}: {message} written beside it", flush=True)
        else:
            failed += 1
            where = "" if str(path) in message else f"{path}: "
            print(f"error: {where}{message} (skipped)", file=sys.stderr, flush=True)
    if failed == total:
        return EXIT_ERROR
    return EXIT_PARTIAL if failed else EXIT_OK
