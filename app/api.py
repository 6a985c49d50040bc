"""The Python API: analyze() gives a video's (or a folder's) per-frame table as a pandas DataFrame, the very table
the `video` command writes as CSV, and a photo's faces as the `image` command writes them; smooth() smooths another
tool's per-frame table as the `smooth` command does; stream() yields each frame's tracked faces as they are computed,
for code built on top. Failures raise app.errors.AppError with the one-line message the command line prints."""

from __future__ import annotations

import numbers
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from app.errors import AppError, counted

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import numpy as np
    import pandas as pd

    from app.engine.pipeline import Pipeline
    from app.engine.results import FaceResult
    from app.engine.sources import FrameSource

# CSV columns read as integers; pandas' nullable Int64, since a frame without a face leaves them empty
INTEGER_COLUMNS = ("frame", "face", "x", "y", "w", "h", "track", "observed", "dropped")


def analyze(
    path: str | Path,
    smoother: str | None = None,
    offline: bool = False,
    weights: str | None = None,
    drop: float = 0.0,
    seed: int = 0,
    cropped: bool = False,
) -> pd.DataFrame:
    """One row per frame and face, with the CSV's columns (`python -m app video PATH --csv ...`). For a folder, every
    video in it, indexed by (video file name, row). For an image (JPEG, PNG, WebP, BMP, TIFF), or a folder of images
    (a GIF's first frame among them) without videos, one row per image and face, as `python -m app image PATH --csv
    ...` writes them (`cropped`: each image is one cropped face, classified whole, as `image --cropped`); a GIF
    named alone is read as a video, every frame."""
    import pandas as pd

    from app.batch.folder import TIMELINE_SUFFIX, VIDEO_EXTENSIONS, folder_videos
    from app.batch.images import FOLDER_IMAGE_EXTENSIONS, IMAGE_EXTENSIONS, image_files
    from app.batch.video import VideoJob, run_file
    from app.engine.sources import SourceError
    from models.face_detector import DetectorError

    check_path("path", path)
    if isinstance(drop, bool) or not isinstance(drop, numbers.Real) or not 0 <= drop < 1:  # numpy's numbers too
        raise AppError(f"drop must be a share of frames, at least 0 and below 1, got {described(drop)}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise AppError(f"seed must be a whole number, 0 or more, got {described(seed)}")
    check_flag("offline", offline)
    check_flag("cropped", cropped)
    if offline and smoother is None:
        raise AppError("offline needs a smoother: analyze(path, smoother=NAME, offline=True)")
    drop, seed = float(drop), int(seed)
    path = Path(path)
    videos = folder_videos(path) if path.is_dir() else [path]
    if path.suffix.lower() in IMAGE_EXTENSIONS or (not videos and image_files([path])):
        if smoother is not None or offline or drop:
            raise AppError(f"{path} holds images: smoother, offline and drop are for videos (a photo has no time)")
        return analyze_images(path, weights, cropped)
    if cropped:
        raise AppError("cropped is for images (a face data set's crops); a video's faces are found in each frame")
    timelines = {video.with_name(f"{video.stem}{TIMELINE_SUFFIX}") for video in videos}  # a folder run's, not photos
    if path.is_dir() and (images := [image for image in image_files([path]) if image not in timelines]):
        # one table holds videos' frames or images, not both
        left_out = f"{counted(len(images), 'image')} in {path} left out (the videos' table)"
        print(f"warning: {left_out}; analyze them apart", file=sys.stderr)
    if not videos:
        images = ", ".join(FOLDER_IMAGE_EXTENSIONS)
        raise AppError(f"no videos ({', '.join(VIDEO_EXTENSIONS)}) or images ({images}) in {path}")
    tables = []
    with tempfile.TemporaryDirectory(prefix="emosmooth-") as folder:
        for number, video in enumerate(videos):
            csv = Path(folder) / f"{number}.csv"
            job = VideoJob(path=video, csv=csv, smoother=smoother, offline=offline, drop=drop, seed=seed)
            try:
                run_file(job, weights, show_progress=False)
            except (SourceError, DetectorError) as error:  # what the command line reports in one line, too
                raise AppError(str(error)) from None
            tables.append(read_output(csv))
    if not path.is_dir():
        return tables[0]
    return pd.concat(tables, keys=[video.name for video in videos], names=["video", "row"])


def analyze_images(path: Path, weights: str | None, cropped: bool = False) -> pd.DataFrame:
    """An image's (or a folder of images') rows, as the `image` command writes them; an unreadable image raises."""
    from app.batch.images import run_images

    def refuse(message: str) -> None:
        raise AppError(message)

    with tempfile.TemporaryDirectory(prefix="emosmooth-") as folder:
        csv = Path(folder) / "images.csv"
        run_images([path], csv, None, weights, show_progress=False, unreadable=refuse, cropped=cropped)
        return read_output(csv)


def smooth(
    table: pd.DataFrame | str | Path,
    smoother: str,
    offline: bool = False,
    fps: float | None = None,
    time: str | None = None,
    frame: str | None = None,
    probs: Mapping[str, str] | None = None,
    box: Sequence[str] | None = None,
    face: str | None = None,
) -> pd.DataFrame:
    """Another tool's per-frame table (a DataFrame, or a CSV's path) smoothed per face track, as
    `python -m app smooth TABLE --smoother NAME --out ...` writes it: the video CSV's columns. The layout (this
    project's, py-feat's, fer's) is told by the columns; the options name columns as the command's do
    (probs: {class: column})."""
    import pandas as pd

    from app.batch.resmooth import smooth_table
    from app.batch.tables import BOX_COLUMNS, TableOptions, read_table_file

    if not isinstance(table, pd.DataFrame):
        check_path("table", table, "a pandas DataFrame or a CSV file's path")
    if not isinstance(smoother, str):
        raise AppError(f"smoother must be a smoother's name (smoothing.available()), got {described(smoother)}")
    check_flag("offline", offline)
    if box is not None and (isinstance(box, str) or len(box) != len(BOX_COLUMNS)):
        raise AppError(f"box names {len(BOX_COLUMNS)} columns (x, y, width, height), got {box!r}")
    options = TableOptions(fps, time, frame, probs, tuple(box) if box is not None else None, face)
    if isinstance(table, str | Path):
        name, table = str(table), read_table_file(Path(table))
    else:
        name = "the table"
    with tempfile.TemporaryDirectory(prefix="emosmooth-") as folder:
        csv = Path(folder) / "smoothed.csv"
        smooth_table(table, name, csv, smoother, offline, options)
        return read_output(csv)


SHORT_REPR = 60  # characters of a wrong argument shown in an error; longer (an array, a frame) shows its type


def described(value: object) -> str:
    """A wrong argument as an error shows it: its repr when short and on one line, else its type."""
    text = repr(value)
    return text if len(text) <= SHORT_REPR and "\n" not in text else f"a {type(value).__name__}"


def check_flag(argument: str, value: object) -> None:
    """A switch given as a bool: 0/1 or "yes" would pass a truth test and hide a mistyped call."""
    if not isinstance(value, bool):
        raise AppError(f"{argument} must be True or False, got {described(value)}")


def check_path(argument: str, value: object, what: str = "a file's or folder's path") -> None:
    """A path argument must be a str or a Path: anything else would fail deep inside with a misleading error."""
    if not isinstance(value, str | Path):
        raise AppError(f"{argument} must be {what} (str or Path), got {described(value)}")


def read_output(csv: Path) -> pd.DataFrame:
    """A CSV this app wrote, its integer columns as pandas' nullable Int64 (empty where a row has no face)."""
    import pandas as pd

    header = pd.read_csv(csv, nrows=0).columns
    return pd.read_csv(csv, dtype={column: "Int64" for column in INTEGER_COLUMNS if column in header})


@dataclass(frozen=True)
class StreamedFrame:
    """One frame of a stream: its index and time (s), its tracked faces (box and landmarks, raw probabilities, track id
    and, with a smoother, the smoothed belief), how long each stage took (ns), the frame itself (BGR), and the live
    tracks whose face it did not show (its last box, probs None, the belief predicted to t)."""

    index: int
    t: float
    faces: list[FaceResult]
    spans_ns: dict[str, int]
    frame: np.ndarray
    predicted: list[FaceResult] = field(default_factory=list)


def stream(
    source: str | int | Path, smoother: str | None = "hmm", weights: str | None = None
) -> Iterator[StreamedFrame]:
    """Every frame of a video file, a camera (its index) or a stream URL, as fast as it can be read and analysed.
    The source is opened and the weights loaded at the call, so a bad one raises here, not at the first frame."""
    from app.batch.video import check_smoother
    from app.engine.pipeline import Pipeline
    from app.engine.sources import CameraSource, SourceError, StreamSource, VideoFileSource
    from app.engine.weights import load_weights
    from models.face_detector import DetectorError

    check_smoother(smoother)
    if isinstance(source, bool) or not isinstance(source, str | int | Path):
        wanted = "a video file's path, a camera's index or a stream's URL"
        raise AppError(f"source must be {wanted}, got {described(source)}")
    text = str(source)
    try:
        if isinstance(source, int) or text.isdigit():
            try:
                frames = CameraSource(int(text))
            except SourceError as error:  # the command line's advice, in the API's terms
                raise AppError(f"{error}; pass a video file's path or a stream URL instead") from None
        elif "://" in text:
            frames = StreamSource(text)
        else:
            frames = VideoFileSource(Path(text))
    except SourceError as error:
        raise AppError(str(error)) from None
    try:
        pipeline = Pipeline(load_weights(weights), smoother)
    except DetectorError as error:
        frames.close()
        raise AppError(str(error)) from None
    except BaseException:
        frames.close()
        raise
    return streamed(frames, pipeline)


def streamed(frames: FrameSource, pipeline: Pipeline) -> Iterator[StreamedFrame]:
    """stream()'s frames, the source closed however the loop ends."""
    from app.engine.sources import SourceError
    from app.errors import EXIT_PARTIAL
    from models.face_detector import DetectorError

    try:
        for result, frame in pipeline.run(frames):
            yield StreamedFrame(result.index, result.t, result.faces, result.spans_ns, frame, result.predicted)
        if frames.ended_early():
            raise AppError(f"{frames.name} stopped delivering frames after {frames.frames_read}", EXIT_PARTIAL)
    except (SourceError, DetectorError) as error:
        raise AppError(str(error)) from None
    finally:
        frames.close()
