"""Command line: `video` turns a file into a CSV (and optionally an annotated video); `demo` is the main job.

Every failure ends in one `error: ...` line on stderr and a non-zero exit code, never a traceback
(set EMOSMOOTH_DEBUG=1 to get the traceback of an unexpected error).
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from app.sources import CameraSource, SourceError, VideoFileSource, camera_may_exist

if TYPE_CHECKING:
    import numpy as np

    from app.pipeline import FrameResult
    from models.classifier import EmotionClassifier

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_PARTIAL = 3  # the video ended early: the rows of every frame read were written, the rest are missing
EXIT_INTERRUPTED = 130  # Ctrl+C, as shells report SIGINT
DEBUG_ENV = "EMOSMOOTH_DEBUG"

ASSETS_DIR = Path(__file__).resolve().parent / "assets"
SAMPLE_CLIP = ASSETS_DIR / "sample_face.mp4"
DEFAULT_OUT_DIR = Path("out")
DEFAULT_CAMERA = 0
WINDOW_NAME = "EmoSmooth (q or Esc to quit)"
QUIT_KEYS = (ord("q"), ord("Q"), 27)  # 27 is Esc
KEY_WAIT_MS = 1
X11_SOCKET_DIR = "/tmp/.X11-unix"  # local X servers listen on X<display number> here
X11_TCP_PORT = 6000  # plus the display number, for forwarded displays such as localhost:10.0
X11_CONNECT_TIMEOUT_S = 0.5
# Two torch threads: on an idle 2-core CPU a face costs 3.9 ms with two and 6.4-7.5 ms with one (flip-averaged
# EmoNet, batch 1). Detection and classification run one after the other, so the threads do not compete with
# OpenCV's; only outside load on every core makes a second thread a loss.
CLASSIFIER_THREADS = 2


class AppError(Exception):
    """A failure to report in one line, with its exit code."""

    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.code = code


class Progress(Protocol):
    """The part of a tqdm bar that process() uses."""

    def update(self, n: int = 1) -> object: ...


def shown(path: Path) -> str:
    """The path as the user would type it: relative to the current directory when it lies below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_weights(path: str | None) -> EmotionClassifier:
    """Loads the classifier (torch is imported only here), turning a bad weights file into a one-line AppError."""
    import torch

    from models.classifier import WeightsError, load_classifier

    torch.set_num_threads(CLASSIFIER_THREADS)
    try:
        return load_classifier(path)
    except WeightsError as error:
        raise AppError(str(error)) from None


def prepare_output(path: Path, source: Path | None = None) -> Path:
    """Creates the parent folder and refuses to overwrite the input video."""
    if source is not None and path.resolve() == source.resolve():
        raise AppError(f"output {path} would overwrite the input video")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise AppError(f"cannot create folder {path.parent}: {error.strerror or error}") from None
    if path.is_dir():
        raise AppError(f"cannot write {path}: it is a folder")
    return path


def process(
    results: Iterable[tuple[FrameResult, np.ndarray]],
    csv_path: Path,
    video_path: Path | None,
    fps: float,
    size: tuple[int, int],
    progress: Progress | None = None,
) -> tuple[int, int]:
    """Writes each frame's rows (flushed) and drawn frame as it comes; returns (frames, frames with a face)."""
    from app.annotate import AnnotatedVideoWriter, VideoOutputError, draw_result
    from app.csv_output import CsvWriter

    video = None
    try:
        if video_path is not None:
            video = AnnotatedVideoWriter(video_path, fps, size)
        csv_file = CsvWriter(csv_path)
    except VideoOutputError as error:
        raise AppError(f"{error} (unwritable path, or an extension OpenCV cannot encode; use .mp4)") from None
    except OSError as error:
        if video is not None:
            video.close()
        raise AppError(f"cannot write {csv_path}: {error.strerror or error}") from None
    with_face = 0
    try:
        for result, frame in results:
            csv_file.write_frame(result)
            with_face += bool(result.faces)
            if video is not None:
                video.write(draw_result(frame, result))
            if progress is not None:
                progress.update(1)
    except OSError as error:
        raise AppError(
            f"cannot write {csv_path}: {error.strerror or error}; {csv_file.frames_written} frames were written"
        ) from None
    except KeyboardInterrupt:
        raise AppError(
            f"interrupted; {csv_file.frames_written} frames were written to {csv_path}", EXIT_INTERRUPTED
        ) from None
    finally:
        csv_file.close()
        if video is not None:
            video.close()
    return csv_file.frames_written, with_face


def run_file(path: Path, csv_path: Path, video_path: Path | None, weights: str | None) -> tuple[int, int]:
    """The whole file through the pipeline into the CSV (and video); AppError on any failure."""
    from tqdm import tqdm

    from app.pipeline import Pipeline

    source = VideoFileSource(path)  # input and output paths are checked before the slow torch import
    prepare_output(csv_path, path)
    if video_path is not None:
        prepare_output(video_path, path)
    classifier = load_weights(weights)
    progress = tqdm(total=source.frame_count, unit="frame", desc=path.name, file=sys.stderr, disable=None, leave=False)
    try:
        frames, with_face = process(
            Pipeline(classifier).run(source), csv_path, video_path, source.fps, source.size, progress
        )
    finally:
        progress.close()
        source.close()
    if source.ended_early():
        raise AppError(
            f"{path} ended after {frames} of {source.frame_count} frames (truncated or damaged); "
            f"the rows of those {frames} frames are in {csv_path}",
            EXIT_PARTIAL,
        )
    return frames, with_face


def cmd_video(args: argparse.Namespace) -> int:
    """`video PATH --csv FILE [--video FILE]`: batch processing of one file."""
    frames, with_face = run_file(
        Path(args.path), Path(args.csv), Path(args.video) if args.video else None, args.weights
    )
    written = f"{args.csv}" + (f" and {args.video}" if args.video else "")
    print(f"{frames} frames ({with_face} with a face) written to {written}")
    return EXIT_OK


def has_display() -> bool:
    """Whether an X display answers: OpenCV's Qt (xcb-only) aborts the process when DISPLAY is set but dead."""
    if not sys.platform.startswith("linux"):
        return True
    display = os.environ.get("DISPLAY", "")
    host, _, number = display.rpartition(":")
    number = number.split(".")[0]
    if not number.isdigit():
        return False
    if host in ("", "unix"):
        return Path(f"{X11_SOCKET_DIR}/X{number}").exists()
    try:
        with socket.create_connection((host, X11_TCP_PORT + int(number)), timeout=X11_CONNECT_TIMEOUT_S):
            return True
    except OSError:
        return False


def open_window() -> bool:
    """Whether a window can be opened: needs a display and an OpenCV build with GUI support."""
    import cv2

    if not has_display():
        return False
    try:
        cv2.namedWindow(WINDOW_NAME, cv2.WINDOW_NORMAL)
    except cv2.error:
        return False
    return True


def run_camera_window(camera: CameraSource, classifier: EmotionClassifier, max_frames: int | None) -> int:
    """Live view in the window open_window() opened, until q/Esc, the window is closed, or max_frames."""
    import cv2

    from app.annotate import draw_result
    from app.pipeline import Pipeline

    try:
        for result, frame in Pipeline(classifier).run(camera):
            cv2.imshow(WINDOW_NAME, draw_result(frame, result))
            key = cv2.waitKey(KEY_WAIT_MS) & 0xFF
            if key in QUIT_KEYS or cv2.getWindowProperty(WINDOW_NAME, cv2.WND_PROP_VISIBLE) < 1:
                break
            if max_frames is not None and result.index + 1 >= max_frames:
                break
    except KeyboardInterrupt:
        pass
    finally:
        camera.close()
        cv2.destroyAllWindows()
    return EXIT_OK


def run_camera_to_files(
    camera: CameraSource, classifier: EmotionClassifier, out_dir: Path, max_frames: int | None
) -> int:
    """Without a display: the camera's frames go to out/camera.csv and out/camera_annotated.mp4 until Ctrl+C."""
    from itertools import islice

    from app.pipeline import Pipeline

    csv_path = prepare_output(out_dir / "camera.csv")
    video_path = prepare_output(out_dir / "camera_annotated.mp4")
    pipeline = Pipeline(classifier)
    print(f"no display; writing camera {camera.index} to {shown(csv_path)} and {shown(video_path)} (Ctrl+C to stop)")

    def stop_on_ctrl_c(results: Iterable[tuple[FrameResult, np.ndarray]]) -> Iterable[tuple[FrameResult, np.ndarray]]:
        try:
            yield from results
        except KeyboardInterrupt:
            return

    results = islice(pipeline.run(camera), max_frames) if max_frames is not None else pipeline.run(camera)
    try:
        frames, with_face = process(stop_on_ctrl_c(results), csv_path, video_path, camera.fps, camera.size)
    finally:
        camera.close()
    print(f"{frames} frames ({with_face} with a face) written")
    print(f"csv:   {shown(csv_path)}")
    print(f"video: {shown(video_path)}")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    """`demo`: the camera when there is one, else the bundled clip, so that it always shows something."""
    out_dir = Path(args.out_dir)
    camera = None
    path = None
    if args.source is None:
        if camera_may_exist(DEFAULT_CAMERA):
            try:
                camera = CameraSource(DEFAULT_CAMERA)
            except SourceError:
                camera = None
        if camera is None:
            print(
                f"no camera found; processing the bundled sample clip {shown(SAMPLE_CLIP)} "
                "(use --source FILE for your own)"
            )
            path = SAMPLE_CLIP
    elif args.source.isdigit():
        camera = CameraSource(int(args.source))
    else:
        path = Path(args.source)

    if camera is not None:
        try:
            classifier = load_weights(args.weights)
        except AppError:
            camera.close()
            raise
        if open_window():
            return run_camera_window(camera, classifier, args.max_frames)
        return run_camera_to_files(camera, classifier, out_dir, args.max_frames)

    assert path is not None
    csv_path, video_path = out_dir / f"{path.stem}.csv", out_dir / f"{path.stem}_annotated.mp4"
    frames, with_face = run_file(path, csv_path, video_path, args.weights)
    print(f"{frames} frames ({with_face} with a face) written")
    print(f"csv:   {shown(csv_path)}")
    print(f"video: {shown(video_path)}")
    return EXIT_OK


def positive_int(text: str) -> int:
    """argparse type for counts, so that 0 or a negative number is a usage error rather than an empty run."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """Subcommands in one parser, detectron2-style: the entry point stays thin."""
    parser = argparse.ArgumentParser(prog="python -m app", description="Facial-emotion recognition on video.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    video = commands.add_parser("video", help="emotions of every face in a video file, as CSV")
    video.add_argument("path", help="the video file")
    video.add_argument("--csv", required=True, help="CSV to write, one row per frame and face")
    video.add_argument("--video", help="also write the frames with boxes and labels to this .mp4")
    video.add_argument("--weights", help="classifier checkpoint (default: models/weights/emonet.pt)")
    video.set_defaults(func=cmd_video)

    demo = commands.add_parser("demo", help="live camera view, or the bundled sample clip when there is no camera")
    demo.add_argument("--source", help="a video FILE, or a camera index such as 0 (default: camera 0, else the sample)")
    demo.add_argument("--weights", help="classifier checkpoint (default: models/weights/emonet.pt)")
    demo.add_argument("--out-dir", default=str(DEFAULT_OUT_DIR), help="where files are written (default: out)")
    demo.add_argument("--max-frames", type=positive_int, help="stop a camera run after this many frames")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs one command; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except AppError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.code
    except SourceError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:  # the promise is one line and no traceback; EMOSMOOTH_DEBUG=1 shows it
        if os.environ.get(DEBUG_ENV):
            raise
        print(f"error: unexpected {type(error).__name__}: {error} (set {DEBUG_ENV}=1 for details)", file=sys.stderr)
        return EXIT_ERROR
