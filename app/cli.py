"""Command line (`emosmooth` or `python -m app`): `video` turns files into CSV, video, timeline and summary; `image`
turns photos into CSV; `smooth` smooths another tool's per-frame table; `live` and `demo` show the camera; `bench`
runs the benchmarks.

Every failure ends in one `error: ...` line on stderr and a non-zero exit code, never a traceback
(set EMOSMOOTH_DEBUG=1 to get the traceback of an unexpected error).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import smoothing
from app.arguments import non_negative_int, number, positive_float, positive_int
from app.batch.video import check_smoother
from app.engine.sources import (
    SAMPLE_CLIP,
    CameraSource,
    FrameSource,
    LoopedFileSource,
    SourceError,
    StreamSource,
    VideoFileSource,
)
from app.engine.weights import load_weights
from app.errors import (
    EXIT_ERROR,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_USAGE,
    AppError,
    CommandLineParser,
    counted,
    stop_code,
    stop_signals_raise,
    stop_word,
)
from app.output.csv_writer import unclassified_warning
from app.output.paths import check_outputs, prepare_output, shown
from models.face_detector import DetectorError
from models.file_names import NOT_UTF8, opencv_takes, readable

if TYPE_CHECKING:
    pass


DEBUG_ENV = "EMOSMOOTH_DEBUG"

BENCH_COMMAND = "bench"
DEFAULT_OUT_DIR = Path("out")
DEFAULT_CAMERA = 0
WINDOW_NAME = "EmoSmooth"
LIVE_CSV = "live.csv"
LIVE_VIDEO = "live_annotated.mp4"
DEFAULT_LIVE_SMOOTHER = smoothing.DEFAULT_SMOOTHER
X11_SOCKET_DIR = "/tmp/.X11-unix"  # local X servers listen on X<display number> here
X11_TCP_PORT = 6000  # plus the display number, for forwarded displays such as localhost:10.0
X11_CONNECT_TIMEOUT_S = 0.5


@dataclass(frozen=True)
class LiveSource:
    """A frame source for the live loop, and whether it must be paced (a file standing in for a camera)."""

    source: FrameSource
    paced: bool


def cmd_video(args: argparse.Namespace) -> int:
    """`video PATH`: one file into its outputs, or every video of a folder into outputs beside each."""
    from app.batch.folder import FolderRun, run_folder
    from app.batch.images import IMAGE_EXTENSIONS
    from app.batch.video import VideoJob, run_file

    path = Path(args.path)
    if not path.exists():  # before the options that differ for a file and a folder are judged
        raise AppError(f"no such file or folder: {path}")
    template = VideoJob(
        path=path,
        csv=Path(args.csv) if args.csv else path,
        video=Path(args.video) if args.video else None,
        timeline=Path(args.timeline) if args.timeline else None,
        summary=Path(args.summary) if args.summary else None,
        smoother=args.smoother,
        offline=args.offline,
        drop=args.drop,
        seed=args.seed,
        realtime=args.realtime,
    )
    if args.offline and args.smoother is None:
        raise AppError("--offline needs --smoother NAME", EXIT_USAGE)
    if path.is_dir():
        if args.csv or args.video or args.timeline or args.summary:
            raise AppError(
                "for a folder, every output is written beside its video; leave out --csv and the rest", EXIT_USAGE
            )
        return run_folder(path, template, args.weights, FolderRun(args.workers, args.resume, args.ray))
    if args.resume or args.ray is not None or args.workers is not None:
        raise AppError("--resume, --ray and --workers are for a folder of videos", EXIT_USAGE)
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        raise AppError(f"{path} is an image: `{program_name()} image` reads photos", EXIT_USAGE)
    if not args.csv:
        raise AppError("--csv FILE is needed for a single video", EXIT_USAGE)
    written = run_file(template, args.weights)
    share = 100 * written.dropped / max(written.frames, 1)
    dropped_note = f" ({written.dropped} dropped, {share:.0f}%)" if template.flags_drops else ""
    print(f"{written.frames} frames{dropped_note} written to {', '.join(str(p) for p in template.outputs())}")
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


def open_source(
    spec: str | None, fallback: bool, size: tuple[int, int] | None, loop: bool, reconnects: int = 0
) -> LiveSource:
    """A camera index, a stream URL or a file standing in for a camera (paced, looped with `loop`).

    With `fallback` (the demo) a missing default camera is replaced by the bundled clip, played in real time and
    looped when `loop` is set. A camera or stream that stops is reopened up to `reconnects` times in a row; a file
    refuses them, as its end is its own.
    """
    if spec is None or spec.isdigit():
        index = DEFAULT_CAMERA if spec is None else int(spec)
        try:
            camera = CameraSource(index, size, reconnects)
        except SourceError:
            if not fallback or spec is not None:
                raise AppError(f"no camera {index} found; use --source FILE (a video file or stream URL)") from None
            print(
                f"no camera found; playing the bundled sample clip {shown(SAMPLE_CLIP)} as a camera "
                "(use --source FILE for your own)",
                flush=True,
            )
            return open_file(SAMPLE_CLIP, loop)
        return LiveSource(camera, paced=False)
    if "://" in spec:
        return LiveSource(StreamSource(spec, reconnects), paced=False)
    if spec.startswith("-") and spec[1:].isdigit() and not Path(spec).exists():
        raise AppError(f"no camera {spec}: camera indices start at 0", EXIT_USAGE)
    if reconnects:
        raise AppError(f"--reconnect is for a camera or stream; {spec} is a file, which ends on its own", EXIT_USAGE)
    return open_file(Path(spec), loop)


def open_file(path: Path, loop: bool) -> LiveSource:
    """A video file as a camera: paced in real time, and replayed until q with `loop`. The file is checked now, so
    that a bad one fails in one line before torch loads."""
    return LiveSource(LoopedFileSource(path) if loop else VideoFileSource(path), paced=True)


def cmd_live(args: argparse.Namespace, fallback: bool = False) -> int:
    """`live`: the camera (or --source) through the live loop, in a window or, without a display, into files. With
    `--jsonl -` the frames' JSON lines own stdout, and every other line the run prints goes to stderr."""
    from app.output.jsonl import STDOUT

    if args.jsonl != STDOUT:
        return run_live(args, fallback, sys.stdout)
    stdout = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):
        return run_live(args, fallback, stdout)


def run_live(args: argparse.Namespace, fallback: bool, stdout: TextIO) -> int:
    """The live command's run; `stdout` is where `--jsonl -` writes."""
    from app.engine.capture import LatestFrameCapture
    from app.engine.pipeline import Pipeline
    from app.live.session import LiveSession, summary_lines
    from app.output.annotate import check_video_name
    from app.output.jsonl import STDOUT, open_jsonl

    check_smoother(args.smoother)
    if (args.width is None) != (args.height is None):
        raise AppError("--width and --height go together", EXIT_USAGE)
    for name in (args.record, args.record_bare):
        if name:
            check_video_name(Path(name))  # before anything is loaded, and before the last session's files are replaced
    size = (args.width, args.height) if args.width is not None else None
    out_dir = Path(args.out_dir)
    if not opencv_takes(out_dir):  # screenshots are written by OpenCV
        raise AppError(f"--out-dir {readable(out_dir)}: {NOT_UTF8}", EXIT_USAGE)
    if out_dir.exists() and not out_dir.is_dir():  # found now, not when a screenshot is taken
        raise AppError(f"--out-dir {out_dir} is a file, not a folder", EXIT_USAGE)
    window = not args.headless and has_display()
    source = open_source(args.source, fallback, size, args.loop or (fallback and window), args.reconnect)
    jsonl = None
    try:
        classifier = load_weights(args.weights)
        no_window_reason = "--headless" if args.headless else "no display"
        if window and not open_window():
            window, no_window_reason = False, "this OpenCV build cannot open one"
        csv_path = Path(args.csv) if args.csv else None
        record_path = Path(args.record) if args.record else None
        if not window:
            csv_path = csv_path or out_dir / LIVE_CSV
            record_path = record_path or out_dir / LIVE_VIDEO
        bare_record_path = Path(args.record_bare) if args.record_bare else None
        jsonl_path = Path(args.jsonl) if args.jsonl not in (None, STDOUT) else None
        outputs = [path for path in (csv_path, record_path, bare_record_path, jsonl_path) if path is not None]
        source_file = getattr(source.source, "path", None)  # a file (the demo's sample too); a camera has none
        check_outputs(outputs, [] if source_file is None else [source_file])
        for path in outputs:
            prepare_output(path)
        if not window:
            print(f"no window ({no_window_reason}); writing {shown(record_path)} and {shown(csv_path)} instead")
        jsonl = open_jsonl(args.jsonl, stdout) if args.jsonl is not None else None
        capture = LatestFrameCapture(source.source, paced=source.paced, size=size if source.paced else None)
        session = LiveSession(
            Pipeline(classifier, args.smoother),
            capture,
            source.source.fps,
            out_dir,
            csv_path,
            record_path,
            window,
            args.max_frames,
            bare_record_path,
            jsonl,
        )
        summary = session.run()
    finally:
        source.source.close()
        if jsonl is not None:
            jsonl.close()
    for line in summary_lines(summary):
        print(line)
    for label, path in (("csv", csv_path), ("video", record_path), ("bare video", bare_record_path)):
        if path is not None:
            print(f"{label}: {shown(path)}")
    if warning := source.source.timestamp_warning():
        print(f"warning: {warning}", file=sys.stderr)
    if summary.stopped_by is not None:
        raise AppError(f"{stop_word(summary.stopped_by)}; everything before is written", stop_code(summary.stopped_by))
    if source.source.ended_early() and not summary.quit:  # a quit (q, --max-frames) leaves a file unfinished
        raise AppError(
            f"{source.source.name} stopped delivering frames after {source.source.frames_read}; "
            "everything before is written",
            EXIT_PARTIAL,
        )
    return EXIT_OK


def cmd_smooth(args: argparse.Namespace) -> int:
    """`smooth TABLE`: another tool's (or an earlier run's) per-frame table smoothed, without detector or CNN."""
    from app.batch.resmooth import smooth_table
    from app.batch.tables import TableOptions, read_table_file

    path = Path(args.table)
    probs = dict(args.prob) if args.prob else None
    if probs is not None and len(probs) < len(args.prob):
        twice = next(label for label, _ in args.prob if [other for other, _ in args.prob].count(label) > 1)
        raise AppError(f"--prob names {twice} twice; give each class one column", EXIT_USAGE)
    options = TableOptions(args.fps, args.time, args.frame, probs, tuple(args.box) if args.box else None, args.face)
    out = Path(args.out)
    table = read_table_file(path)
    smoothed = smooth_table(table, str(path), out, args.smoother, args.offline, options, source=path)
    mode = " offline" if args.offline else ""
    print(
        f"{counted(smoothed.frames, 'frame')}, {counted(smoothed.faces, 'face')} in "
        f"{counted(smoothed.tracks, 'track')} ({smoothed.layout}) smoothed with {args.smoother}{mode} into {shown(out)}"
    )
    return EXIT_OK


def cmd_image(args: argparse.Namespace) -> int:
    """`image PATH...`: the faces of photos (files, or folders of them) into one CSV, and annotated copies."""
    from app.batch.folder import VIDEO_EXTENSIONS
    from app.batch.images import run_images

    paths = [Path(path) for path in args.paths]
    for path in paths:
        if path.suffix.lower() in VIDEO_EXTENSIONS and not path.is_dir():
            raise AppError(f"{path} is a video: `{program_name()} video` reads videos", EXIT_USAGE)
    annotate = Path(args.annotate) if args.annotate else None
    written = run_images(paths, Path(args.csv), annotate, args.weights, cropped=args.cropped)
    read = written.images - written.skipped
    copies = f", annotated copies in {shown(annotate)}" if annotate is not None and read else ""
    images, faces = f"{read} of {counted(written.images, 'image')}", counted(written.faces, "face")
    print(f"{images}, {faces}, written to {shown(Path(args.csv))}{copies}")
    if written.unclassified:
        print(unclassified_warning(written.unclassified, "the images", shown(Path(args.csv))), file=sys.stderr)
    if written.small_faceless:
        print(
            f"warning: no face found in {counted(written.small_faceless, 'small image')}; if each image is a cropped "
            "face (a face data set), --cropped classifies it whole",
            file=sys.stderr,
        )
    if written.skipped == written.images:
        return EXIT_ERROR
    return EXIT_PARTIAL if written.skipped else EXIT_OK


def open_window() -> bool:
    """Whether OpenCV can open a window here (a build with GUI support): tried once, then closed again."""
    import cv2

    try:
        cv2.namedWindow(WINDOW_NAME, cv2.WINDOW_AUTOSIZE)
        cv2.destroyWindow(WINDOW_NAME)
    except cv2.error:
        return False
    return True


def cmd_demo(args: argparse.Namespace) -> int:
    """`demo`: the live app, the bundled clip standing in for a missing camera so that it always shows something."""
    return cmd_live(args, fallback=True)


MAX_FRAME_SIDE = 7680  # px: 8K UHD's width, beyond any camera; larger asks OpenCV for gigabytes per frame
MIN_FRAME_SIDE = 2  # px: video encoders refuse a 1-pixel side (and round odd sides down to even)


def frame_side(text: str) -> int:
    """argparse type for --width and --height: a camera's or a resized file's frame side."""
    value = int(number(text, int))
    if not MIN_FRAME_SIDE <= value <= MAX_FRAME_SIDE:
        raise argparse.ArgumentTypeError(f"must be {MIN_FRAME_SIDE} to {MAX_FRAME_SIDE} (8K) pixels, got {value}")
    return value


def class_column(text: str) -> tuple[str, str]:
    """argparse type for `--prob CLASS=COLUMN`: one of our classes, and the table's column that holds it."""
    label, equals, column = text.partition("=")
    if not equals or not column:
        raise argparse.ArgumentTypeError(f"expected CLASS=COLUMN, got {text!r}")
    if label not in smoothing.CLASSES:
        raise argparse.ArgumentTypeError(f"{label!r} is not a class; the classes are {', '.join(smoothing.CLASSES)}")
    return label, column


def installed_version() -> str:
    """The package's version as pip installed it (pyproject.toml), for bug reports."""
    try:
        return importlib.metadata.version("emosmooth")
    except importlib.metadata.PackageNotFoundError:
        return "(not installed: run `make test` or `pip install -e .`)"


def program_name() -> str:
    """How the user started the program, for usage lines: the installed command or the module."""
    return "emosmooth" if Path(sys.argv[0]).name == "emosmooth" else "python -m app"


WEIGHTS_HELP = "classifier checkpoint (default: the shipped weights, models/weights/emonet.pt in the package)"


def build_parser() -> argparse.ArgumentParser:
    """Subcommands in one parser, detectron2-style: the entry point stays thin."""
    parser = CommandLineParser(prog=program_name(), description="Facial-emotion recognition on video.")
    parser.add_argument("--version", action="version", version=f"emosmooth {installed_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    video = commands.add_parser("video", help="emotions of every face in a video file (or a folder of them)")
    video.add_argument("path", help="the video file, or a folder: then every output is written beside each video")
    video.add_argument("--csv", help="CSV to write, one row per frame and face (needed for a single file)")
    video.add_argument("--video", help="also write the frames with boxes and labels to this .mp4")
    video.add_argument("--timeline", help="also write a timeline PNG: probabilities over time per face")
    video.add_argument("--summary", help="also write a JSON summary per face: dominant emotion, shares, switches")
    video.add_argument("--weights", help=WEIGHTS_HELP)
    video.add_argument(
        "--smoother",
        help="smooth each face over time and add track, s_* and smoothed_label columns "
        f"({', '.join(smoothing.available())}; {DEFAULT_LIVE_SMOOTHER} is the best on real clips)",
    )
    video.add_argument(
        "--offline", action="store_true", help="with --smoother: smooth each face's whole sequence at the end"
    )
    video.add_argument("--drop", type=float, default=0.0, help="drop this share of frames at random (0..1)")
    video.add_argument("--seed", type=non_negative_int, default=0, help="random seed of --drop")
    video.add_argument(
        "--realtime", action="store_true", help="play the file in real time as the live app would, dropping frames"
    )
    video.add_argument(
        "--workers", type=positive_int, help="videos processed at once, for a folder (default: 1; with --ray: all CPUs)"
    )
    video.add_argument(
        "--resume", action="store_true", help="for a folder: skip videos whose outputs are complete, redo the rest"
    )
    video.add_argument(
        "--ray",
        nargs="?",
        const="",
        metavar="ADDRESS",
        help="for a folder: run its videos as Ray tasks, on a local Ray instance or on the cluster at ADDRESS",
    )
    video.set_defaults(func=cmd_video)

    image = commands.add_parser(
        "image", help="emotions of every face in photos (JPEG, PNG, WebP, BMP, TIFF, GIF) or folders of them"
    )
    image.add_argument("paths", nargs="+", metavar="PATH", help="image files, or folders: every image in each")
    image.add_argument("--csv", required=True, help="CSV to write, one row per image and face")
    image.add_argument("--annotate", metavar="DIR", help="also write each image with boxes and labels into DIR")
    image.add_argument(
        "--cropped",
        action="store_true",
        help="each image is one cropped face (a face data set): classify it whole, without searching for faces",
    )
    image.add_argument("--weights", help=WEIGHTS_HELP)
    image.set_defaults(func=cmd_image)

    smooth = commands.add_parser(
        "smooth", help="smooth a per-frame table of emotion probabilities (this app's, py-feat's, fer's or any)"
    )
    smooth.add_argument("table", help="CSV: EmoSmooth's, py-feat's Fex, fer's Video.analyze, or any (name its columns)")
    smooth.add_argument("--smoother", required=True, help=f"{', '.join(smoothing.available())}")
    smooth.add_argument("--offline", action="store_true", help="smooth each face's whole sequence, looking ahead")
    smooth.add_argument("--out", required=True, help="CSV to write: the video CSV's columns, smoothed")
    smooth.add_argument("--fps", type=positive_float, help="frame rate: times are frame / fps (fer's CSV needs it)")
    smooth.add_argument("--time", metavar="COLUMN", help="the column of each row's time in seconds")
    smooth.add_argument("--frame", metavar="COLUMN", help="the column of each row's frame number (with --fps)")
    smooth.add_argument(
        "--prob",
        nargs="+",
        action="extend",  # --prob a=A --prob b=B is --prob a=A b=B, not the last flag alone
        type=class_column,
        metavar="CLASS=COLUMN",
        help=f"the column of each class's probability ({', '.join(smoothing.CLASSES)}); unnamed classes count 0",
    )
    smooth.add_argument("--box", nargs=4, metavar=("X", "Y", "W", "H"), help="the columns of each face's box, in px")
    smooth.add_argument("--face", metavar="COLUMN", help="the column of each face's index in its frame (no boxes)")
    smooth.set_defaults(func=cmd_smooth)

    for name, help_text, func in (
        ("live", "live view of a camera, file or stream, with smoothing, in a window or into files", cmd_live),
        ("demo", "the live view; plays the bundled sample clip as a camera when there is no camera", cmd_demo),
    ):
        live = commands.add_parser(name, help=help_text)
        live.add_argument("--source", help="camera index (default 0), video FILE or stream URL")
        live.add_argument("--smoother", default=DEFAULT_LIVE_SMOOTHER, help=f"default: {DEFAULT_LIVE_SMOOTHER}")
        live.add_argument("--width", type=frame_side, help="frame width to ask the camera for (files are resized)")
        live.add_argument("--height", type=frame_side, help="frame height, with --width")
        live.add_argument("--record", help="write the view (picture and panel) to this .mp4")
        live.add_argument("--record-bare", help="write the picture with boxes and labels only to this .mp4 (research)")
        live.add_argument("--csv", help="write one row per processed frame and face to this CSV")
        live.add_argument(
            "--jsonl", metavar="FILE|-", help="write one JSON line per frame to FILE (-: stdout), flushed at once"
        )
        live.add_argument("--out-dir", default=str(DEFAULT_OUT_DIR), help="screenshots, and files without a display")
        live.add_argument("--weights", help=WEIGHTS_HELP)
        live.add_argument("--loop", action="store_true", help="replay a video file until q")
        live.add_argument("--headless", action="store_true", help="no window even when there is a display")
        live.add_argument("--max-frames", type=positive_int, help="stop after processing this many frames")
        live.add_argument(
            "--reconnect",
            type=positive_int,
            default=0,
            metavar="N",
            help="when the camera or stream stops delivering frames, reopen it up to N times in a row",
        )
        live.set_defaults(func=func)
    commands.add_parser(  # listed here; main() hands its arguments to the benchmarks, loaded only then
        BENCH_COMMAND,
        add_help=False,
        help="the benchmarks (real, detection, latency, quality, folder, soak), as python -m benchmarks",
    )
    for command in commands.choices.values():  # a refusal names the command's own --help, where its options are
        command.set_defaults(parser=command)
    return parser


def run_benchmarks(argv: list[str]) -> int:
    """`emosmooth bench ...` is `python -m benchmarks ...`: the benchmarks load only when asked for."""
    from benchmarks.__main__ import main as benchmarks_main

    return benchmarks_main(argv, prog=f"{program_name()} {BENCH_COMMAND}")


def main(argv: list[str] | None = None) -> int:
    """Runs one command; returns the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    if sys.stdout is None:  # started with stdout closed (`>&-`): what would be printed goes nowhere, the work goes on
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
    if argv[:1] == [BENCH_COMMAND]:
        return run_benchmarks(argv[1:])
    args, unknown = build_parser().parse_known_args(argv)
    if unknown:  # refused by the command's parser, not the top one, whose --help does not list the command's options
        args.parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        with stop_signals_raise():  # SIGTERM unwinds like Ctrl+C, closing every output on the way
            return args.func(args)
    except AppError as error:
        hint = f" ({args.parser.prog} --help lists the options)" if error.code == EXIT_USAGE else ""
        print(f"error: {error}{hint}", file=sys.stderr)
        return error.code
    except (SourceError, DetectorError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt as stop:
        print(f"error: {stop_word(stop)}", file=sys.stderr)
        return stop_code(stop)
    except Exception as error:  # the promise is one line and no traceback; EMOSMOOTH_DEBUG=1 shows it
        if os.environ.get(DEBUG_ENV):
            raise
        print(f"error: unexpected {type(error).__name__}: {error} (set {DEBUG_ENV}=1 for details)", file=sys.stderr)
        return EXIT_ERROR
