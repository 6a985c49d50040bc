"""Video files to outputs: per-frame CSV, annotated video, timeline PNG and JSON summary, one file or a folder.

Rows are written (and flushed) as frames come, so a truncated file or Ctrl+C keeps everything already read;
offline smoothing is the exception: it needs the whole file and writes at the end.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from app.engine.sources import VideoFileSource
from app.engine.tracker import TRACK_TIMEOUT_S
from app.errors import EXIT_ERROR, EXIT_PARTIAL, EXIT_USAGE, AppError, frames_written, stop_code, stop_word
from app.output.csv_writer import unclassified_warning
from app.output.paths import check_outputs, prepare_output

if TYPE_CHECKING:
    from app.engine.pipeline import Pipeline
    from app.engine.results import FaceResult, FrameResult


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


@dataclass(frozen=True)
class Written:
    """What went into a video's outputs."""

    frames: int
    dropped: int = 0
    unclassified: int = 0  # faces whose classification was not finite, written as UNCLASSIFIED rows


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
    except ValueError as error:  # smoothing.ParamsError is one: a damaged file, not a bad command line
        raise AppError(str(error), EXIT_USAGE if name not in smoothing.available() else EXIT_ERROR) from None


def realtime_frames(pipeline: Pipeline, source: VideoFileSource) -> Iterator[tuple[FrameResult, np.ndarray]]:
    """The file played in real time as the live app would see it: only the newest frame is processed when the
    previous one is done; the frames skipped meanwhile come out as dropped results, predicted to their times."""
    from app.engine.capture import LatestFrameCapture

    capture = LatestFrameCapture(source, paced=True).start()
    pipeline.reset()
    try:
        while (captured := capture.latest()) is not None:
            for skipped in captured.skipped:
                yield pipeline.skip(skipped.index, skipped.source_t), skipped.frame
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
) -> Written:
    """Writes each frame's rows and drawn frame as it comes; a dropped frame's rows are flagged dropped and, like a
    face missed, carry each live track's predicted belief, drawn on the frame as well. On a failed write or a stop
    signal, the outputs are closed whole (the CSV at its last whole frame, the video playable to its last frame) and
    AppError says how many frames they hold."""
    from app.output.annotate import AnnotatedVideoWriter, draw_result
    from app.output.csv_writer import COLUMNS, DROPPED_COLUMN, SMOOTHED_COLUMNS, CsvWriter, dropped_cell, frame_rows

    columns = (*(SMOOTHED_COLUMNS if job.smoother else COLUMNS), *((DROPPED_COLUMN,) if job.flags_drops else ()))
    video = None
    try:
        if job.video is not None:
            video = AnnotatedVideoWriter(job.video, fps, size)
        csv_file = CsvWriter(job.csv, columns)
    except OSError as error:
        if video is not None:
            video.close()
        raise AppError(f"cannot write {job.csv}: {error.strerror or error}") from None
    dropped = unclassified = 0
    try:
        for result, frame in results:
            dropped += result.dropped
            unclassified += len(result.unclassified)
            extra = dropped_cell(result) if job.flags_drops else None
            csv_file.write_rows(frame_rows(result, extra))  # a failed write (disk full) is an AppError naming frames
            if recording is not None:
                recording.times.append(result.t)
                recording.tracked.append(result.faces)
            if video is not None and frame is not None:
                video.write(draw_result(frame, result))
            if progress is not None:
                progress.update(1)
    except KeyboardInterrupt as stop:  # Ctrl+C or SIGTERM (app.errors.Stopped)
        raise AppError(
            f"{stop_word(stop)}; {frames_written(csv_file.frames_written)} to {job.csv}", stop_code(stop)
        ) from None
    finally:
        csv_file.close()
        if video is not None:
            video.close()
    return Written(csv_file.frames_written, dropped, unclassified)


def collect_offline(
    results: Iterable[tuple[FrameResult, np.ndarray]], smoother: str, progress: Progress | None
) -> tuple[list[FrameResult], KeyboardInterrupt | None]:
    """Every frame's result (tracked, not yet smoothed), smoothed per track at the end; and the stop (Ctrl+C,
    SIGTERM) that cut the reading short, if one did: what was read is still smoothed and written."""
    from app.engine.offline import smooth_tracks_offline

    kept: list[FrameResult] = []
    stopped = None
    try:
        for result, _ in results:
            kept.append(result)
            if progress is not None:
                progress.update(1)
    except KeyboardInterrupt as stop:
        stopped = stop
    return smooth_tracks_offline(smoother, kept), stopped


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


def check_job_options(job: VideoJob, weights: str | None) -> None:
    """The options every video of a run shares, refused before any work (exit 2; weights that are not there, exit 1):
    a folder checks them once, before any video's completion record is replaced."""
    check_smoother(job.smoother, job.offline)
    if job.offline and job.smoother is None:
        raise AppError("--offline needs --smoother NAME", EXIT_USAGE)
    if not 0 <= job.drop < 1:
        raise AppError(f"--drop must be at least 0 and below 1, got {job.drop}", EXIT_USAGE)
    if job.realtime and job.drop > 0:
        raise AppError("--realtime drops what it cannot keep up with; leave out --drop", EXIT_USAGE)
    if isinstance(weights, str | Path) and not Path(weights).exists():  # what it holds is checked when it is loaded
        raise AppError(f"weights not found: {weights}")


def run_file(
    job: VideoJob, weights: str | None, show_progress: bool | None = None, threads: int | None = None
) -> Written:
    """The whole file into its outputs. AppError on failure, after writing what was read; warnings (frames whose
    timestamps had to be repaired, faces that could not be classified) go to stderr in one line each.

    show_progress None shows a bar only on a terminal; threads None keeps the classifier's default.
    """
    from tqdm import tqdm

    from app.engine.pipeline import Pipeline
    from app.engine.weights import CLASSIFIER_THREADS, load_weights

    check_job_options(job, weights)
    source = VideoFileSource(job.path)  # input and output paths are checked before the slow torch import
    check_outputs(job.outputs(), [job.path])
    if job.timeline is not None:
        from app.output.timeline import check_timeline_path

        check_timeline_path(job.timeline)
    if job.video is not None:
        from app.output.annotate import check_video_name

        check_video_name(job.video)
    for path in job.outputs():
        prepare_output(path)  # the input and each other: checked above, once for all
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
    stopped = None
    try:
        pipeline = Pipeline(classifier, None if job.offline else job.smoother)
        results = realtime_frames(pipeline, source) if job.realtime else pipeline.run(source, job.drop, job.seed)
        if job.offline and job.smoother is not None:
            smoothed, stopped = collect_offline(results, job.smoother, progress)
            replayed = replay(smoothed, job.path if job.video is not None else None)
            written = process(replayed, job, source.fps, source.size, recording=recording)
        else:
            written = process(results, job, source.fps, source.size, progress, recording)
    except AppError:  # a stop or a failed write: the frames written still get their timeline and summary
        if recording is not None:
            with contextlib.suppress(AppError):  # a full disk: the first failure is the one to report
                write_reports(job, recording)
        raise
    finally:
        progress.close()
        source.close()
    if recording is not None:
        write_reports(job, recording)
    warn(job, written, source)
    if stopped is not None:
        raise AppError(f"{stop_word(stopped)}; {frames_written(written.frames)} to {job.csv}", stop_code(stopped))
    if source.ended_early():
        raise AppError(
            f"{job.path} ended after {written.frames} of {source.frame_count} frames (truncated or damaged); "
            f"the rows of those {written.frames} frames are in {job.csv}",
            EXIT_PARTIAL,
        )
    return written


def warn(job: VideoJob, written: Written, source: VideoFileSource) -> None:
    """The run's warnings, one line each on stderr: they do not fail the run, but the user must not miss them."""
    if warning := source.timestamp_warning():
        print(f"warning: {warning}", file=sys.stderr, flush=True)
    if written.unclassified:
        print(unclassified_warning(written.unclassified, job.path, job.csv), file=sys.stderr, flush=True)
    if (period := source.mean_period_s()) is not None and period > TRACK_TIMEOUT_S:
        print(f"warning: {sparse_frames_warning(job.path, period)}", file=sys.stderr, flush=True)


def sparse_frames_warning(path: Path, period_s: float) -> str:
    """A time-lapse (or a file whose times are wrong) has frames further apart than a track waits for its face: every
    frame starts new tracks, so no face is followed and nothing is smoothed, which the rows alone do not show."""
    return (
        f"the frames of {path} are {period_s:.1f} s apart on average, longer than a face's track waits for it "
        f"({TRACK_TIMEOUT_S:g} s): each frame's faces start new tracks, and nothing is smoothed across frames"
    )


@contextlib.contextmanager
def report_file(path: Path) -> Iterator[None]:
    """A report written whole or not at all: a failed write (a full disk) leaves no stump and says which file."""
    try:
        yield
    except OSError as error:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
        raise AppError(f"cannot write {path}: {error.strerror or error}") from None


def write_reports(job: VideoJob, recording: Recording) -> None:
    """The timeline PNG and the JSON summary, from what was recorded (also of a truncated file)."""
    if job.timeline is not None and recording.times:
        from app.output.timeline import write_timeline

        with report_file(job.timeline):
            write_timeline(job.timeline, recording.times, recording.tracked, title=job.path.name)
    if job.summary is not None:
        from app.output.summary import summarize_tracks, write_summary

        with report_file(job.summary):
            write_summary(job.summary, job.path, job.smoother, summarize_tracks(recording.times, recording.tracked))
