"""Still images (JPEG, PNG, WebP, BMP, TIFF, a GIF's first frame): every face of each photo through the same
detector, aligner and classifier as a video's frames, one CSV row per face (the video CSV's columns, `file` in place
of frame and t) and, on request, an annotated copy. An image that cannot be read is reported in one line and
skipped; the others are written."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from app.batch.orientation import upright, webp_orientation
from app.engine.pipeline import Classifier, Pipeline
from app.engine.results import FaceResult, FrameResult
from app.errors import AppError, stop_code, stop_word
from app.output.csv_writer import IMAGE_COLUMNS, CsvWriter, image_rows
from app.output.paths import check_outputs, folder_files, prepare_output
from models.face_detector import SMALL_FACE_WIDTH, Detection, FaceDetector

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")
# A GIF is a still or an animation: `image` reads its first frame (a named file or one in a folder), while `video`
# and analyze() read a GIF named alone as a video, every frame.
GIF_EXTENSION = ".gif"
FOLDER_IMAGE_EXTENSIONS = (*IMAGE_EXTENSIONS, GIF_EXTENSION)  # what `image` and analyze() take from a folder
IMAGE_FORMATS = "JPEG, PNG, WebP, BMP, TIFF, GIF"  # how messages name what `image` reads
# px; a photo's full search runs at this width (never upscaled). A still is searched once, not 30 times a second, so
# it affords more than a video frame's 256 (models.face_detector.WORK_WIDTH): a face a twentieth of a group photo's
# width is 32 px here, well inside YuNet's range, where at 256 it would be 13 px. A video's second look for small
# faces uses the same width.
STILL_WORK_WIDTH = SMALL_FACE_WIDTH
# px; an image no larger than this on its longer side where no face was found is likely a face data set's crop
# (FER2013's are 48 px, most others 100-256): the run then says that --cropped classifies such images whole.
CROP_HINT_MAX_SIDE = 256
CROPPED_SCORE = 1.0  # the box of a cropped image is the image itself, not a detection with a confidence


@dataclass(frozen=True)
class ImagesWritten:
    """What the image run wrote, for the closing line and the exit code."""

    images: int  # images given (files, and the images of the folders given)
    faces: int
    skipped: int  # images that could not be read
    unclassified: int = 0  # faces found whose classification was not finite, written as unclassified rows
    small_faceless: int = 0  # images of at most CROP_HINT_MAX_SIDE px where no face was found (likely crops)


def image_files(paths: Sequence[Path]) -> list[Path]:
    """Each path given: a file as it is (read or reported later), a folder as its images by name (not its
    subfolders, hidden files or other files; a broken link is listed, to be reported)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in folder_files(path) if p.suffix.lower() in FOLDER_IMAGE_EXTENSIONS)
        else:
            files.append(path)
    return files


def read_image(path: Path) -> np.ndarray:
    """The image's BGR pixels, turned upright by its EXIF orientation; AppError in one line when it cannot be read.
    Decoded from its bytes (cv2.imread cannot open every path on every system, and says nothing of why)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise AppError(f"no such file: {path}") from None
    except OSError as error:
        raise AppError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        image = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_COLOR) if raw else None
    except cv2.error as error:  # the image alone is skipped, not the run
        reason = "over the 2^30 pixels OpenCV decodes" if "MAX_IMAGE_PIXELS" in error.err else error.err
        raise AppError(f"cannot read {path}: OpenCV cannot decode it ({reason})") from None
    if image is None:
        raise AppError(f"cannot read {path}: not an image OpenCV reads ({IMAGE_FORMATS}), or corrupt")
    return upright(image, webp_orientation(raw))


def still_pipeline(classifier: Classifier) -> Pipeline:
    """The video's pipeline without smoothing, its detector searching every image whole at STILL_WORK_WIDTH."""
    return Pipeline(classifier, None, FaceDetector(full_detect_every=1, work_width=STILL_WORK_WIDTH))


def cropped_result(classifier: Classifier, image: np.ndarray) -> FrameResult:
    """An image that is one face already (a face data set's crop): classified whole, as FER2013's faces were framed
    for training, its box the whole image; no detector, so no face is ever missed."""
    height, width = image.shape[:2]
    box = Detection(0, 0, width, height, CROPPED_SCORE)
    probs = classifier.predict([image])[0]
    if not np.isfinite(probs).all():
        return FrameResult(0, 0.0, [], unclassified=[box])
    return FrameResult(0, 0.0, [FaceResult(box, probs)])


def analyze_image(pipeline: Pipeline, image: np.ndarray) -> FrameResult:
    """The faces of one still: a stream of its own, so that nothing of the image before carries over."""
    pipeline.reset()
    return pipeline.process(0, 0.0, image)


def annotated_paths(files: Sequence[Path], folder: Path) -> dict[Path, Path]:
    """Where each image's annotated copy goes: the folder, under the image's own name; refuses two images of one
    name, and a copy that would overwrite its image, before any work."""
    targets: dict[Path, Path] = {}
    for file in files:
        target = folder / file.name
        if target in targets.values():
            first = next(source for source, other in targets.items() if other == target)
            raise AppError(f"{first} and {file} would both be annotated into {target}; annotate them apart")
        targets[file] = prepare_output(target, file)
    return targets


def write_image(path: Path, image: np.ndarray) -> None:
    """Writes the image in the format its name says; AppError in one line when it cannot."""
    ok, data = cv2.imencode(path.suffix, image)
    if not ok:
        raise AppError(f"cannot write {path}: OpenCV cannot encode {path.suffix} images")
    try:
        path.write_bytes(data.tobytes())
    except OSError as error:
        raise AppError(f"cannot write {path}: {error.strerror or error}") from None


def skip(message: str) -> None:
    """The command line's report of an image it cannot read: one line, and the run goes on."""
    print(f"error: {message} (skipped)", file=sys.stderr, flush=True)


def run_images(
    paths: Sequence[Path],
    csv: Path,
    annotate: Path | None,
    weights: str | None,
    show_progress: bool | None = None,
    unreadable: Callable[[str], None] = skip,
    cropped: bool = False,
) -> ImagesWritten:
    """Every image of `paths` into the CSV (one row per face, one row with only `file` for an image without a face)
    and, with `annotate`, an annotated copy in that folder; with `cropped`, each image is one face, classified whole.
    An image that cannot be read goes to `unreadable` (by default one line on stderr) and is skipped. show_progress
    None shows a bar only on a terminal."""
    from tqdm import tqdm

    from app.engine.weights import load_weights
    from app.output.annotate import draw_result

    files = image_files(paths)
    if not files:
        listed = ", ".join(FOLDER_IMAGE_EXTENSIONS)
        raise AppError(f"no images ({listed}) in {', '.join(str(path) for path in paths)}")
    targets = annotated_paths(files, annotate) if annotate is not None else {}
    check_outputs([csv, *targets.values()], files)
    prepare_output(csv)
    pipeline: Pipeline | None = None  # made at the first readable image: a run of unreadable ones loads no torch
    try:
        writer = CsvWriter(csv, IMAGE_COLUMNS)
    except OSError as error:
        raise AppError(f"cannot write {csv}: {error.strerror or error}") from None
    faces = skipped = unclassified = small_faceless = 0
    hidden = None if show_progress is None else not show_progress  # None: a bar only on a terminal
    try:
        for file in tqdm(files, unit="image", file=sys.stderr, disable=hidden, leave=False):
            try:
                image = read_image(file)
            except AppError as error:
                unreadable(str(error))
                skipped += 1
                continue
            if pipeline is None:
                pipeline = still_pipeline(load_weights(weights))
            result = cropped_result(pipeline.classifier, image) if cropped else analyze_image(pipeline, image)
            if not result.faces and not result.unclassified and max(image.shape[:2]) <= CROP_HINT_MAX_SIDE:
                small_faceless += 1
            writer.write_rows(image_rows(str(file), result))  # a failed write is an AppError naming what was written
            faces += len(result.faces)
            unclassified += len(result.unclassified)
            if file in targets:
                write_image(targets[file], draw_result(image, result))
    except KeyboardInterrupt as stop:
        written = f"{stop_word(stop)}; {writer.frames_written} images were written to {csv}"
        raise AppError(written, stop_code(stop)) from None
    finally:
        writer.close()
    return ImagesWritten(len(files), faces, skipped, unclassified, small_faceless)
