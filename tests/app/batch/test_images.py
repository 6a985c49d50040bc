"""Still images: one CSV row per face with the video CSV's columns (`file` in place of frame and t), every image of a
folder, annotated copies, an unreadable image one line and skipped, and app.analyze() on images."""

from __future__ import annotations

import csv
import os
import struct
import subprocess
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

import app
from app.batch.images import read_image, run_images
from app.errors import EXIT_ERROR, EXIT_PARTIAL, EXIT_USAGE, AppError
from app.output.csv_writer import IMAGE_COLUMNS, PROB_COLUMNS
from tests.app.cli_runner import call_app
from tests.app.test_cli import assert_one_line_error
from tests.conftest import SAMPLE_CLIP

SMILE_FRAME = 40  # the sample clip's face, smiling by then
EXIF_ROTATE_CLOCKWISE = 6  # EXIF orientation: the stored picture is shown turned a quarter clockwise
UNREADABLE = "cannot read {}: not an image OpenCV reads (JPEG, PNG, WebP, BMP, TIFF, GIF), or corrupt (skipped)"


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory, sample_frames: list[np.ndarray]) -> Path:
    """A folder as a user's: a face (JPEG), two faces side by side (PNG), a grey face (WebP), a picture without a
    face, a damaged JPEG, and a file that is no image at all."""
    folder = tmp_path_factory.mktemp("photos")
    face = sample_frames[SMILE_FRAME]
    cv2.imwrite(str(folder / "one.jpg"), face)
    cv2.imwrite(str(folder / "two.png"), np.hstack([face, face]))
    cv2.imwrite(str(folder / "grey.webp"), cv2.cvtColor(face, cv2.COLOR_BGR2GRAY))
    cv2.imwrite(str(folder / "wall.png"), np.full((240, 320, 3), 180, np.uint8))
    (folder / "broken.jpg").write_bytes((folder / "one.jpg").read_bytes()[:200])
    (folder / "notes.txt").write_text("not an image, and not named like one")
    return folder


@pytest.fixture(scope="module")
def photo_run(
    photos: Path, tmp_path_factory: pytest.TempPathFactory, weights_path: Path
) -> tuple[subprocess.CompletedProcess[str], list[dict[str, str]], Path]:
    out = tmp_path_factory.mktemp("out")
    annotated = out / "annotated"
    result = call_app("image", photos, "--csv", out / "faces.csv", "--annotate", annotated, "--weights", weights_path)
    with (out / "faces.csv").open(newline="") as file:
        rows = list(csv.DictReader(file))
        assert tuple(rows[0]) == IMAGE_COLUMNS
    return result, rows, annotated


def test_a_folder_of_photos_gives_one_row_per_face_and_one_for_a_photo_without_any(photo_run, photos: Path) -> None:
    _, rows, _ = photo_run
    assert [(Path(row["file"]).name, row["face"]) for row in rows] == [
        ("grey.webp", "0"), ("one.jpg", "0"), ("two.png", "0"), ("two.png", "1"), ("wall.png", "")
    ]  # fmt: skip
    assert all(Path(row["file"]).parent == photos for row in rows)
    left, right = (row for row in rows if row["file"].endswith("two.png"))
    assert int(right["x"]) - int(left["x"]) == pytest.approx(640, abs=4)  # the second copy, 640 px to the right
    for row in rows[:-1]:
        probs = [float(row[column]) for column in PROB_COLUMNS]
        assert sum(probs) == pytest.approx(1.0, abs=1e-4)
        assert row["label"] == PROB_COLUMNS[int(np.argmax(probs))].removeprefix("p_")
    assert {key for key, value in rows[-1].items() if value} == {"file"}


def test_an_unreadable_image_is_one_line_and_skipped_and_the_run_is_partial(photo_run, photos: Path) -> None:
    result, _, _ = photo_run
    assert result.returncode == EXIT_PARTIAL
    assert result.stderr.splitlines() == [f"error: {UNREADABLE.format(photos / 'broken.jpg')}"]
    assert result.stdout.startswith("4 of 5 images, 4 faces, written to ")


def test_a_video_given_to_image_is_refused_with_the_command_to_use(tmp_path: Path) -> None:
    result = call_app("image", SAMPLE_CLIP, "--csv", tmp_path / "faces.csv")
    assert result.returncode == EXIT_USAGE
    assert_one_line_error(result, f"{SAMPLE_CLIP} is a video: `python -m app video` reads videos")
    assert not (tmp_path / "faces.csv").exists()


def test_the_closing_line_counts_one_image_and_one_face_in_the_singular(photos: Path, tmp_path: Path) -> None:
    result = call_app("image", photos / "one.jpg", "--csv", tmp_path / "one.csv")
    assert result.stdout.startswith("1 of 1 image, 1 face, written to ")


def test_each_readable_photo_gets_an_annotated_copy_of_its_size_and_format(photo_run, photos: Path) -> None:
    _, _, annotated = photo_run
    assert sorted(path.name for path in annotated.iterdir()) == ["grey.webp", "one.jpg", "two.png", "wall.png"]
    for copy in annotated.iterdir():
        original = cv2.imread(str(photos / copy.name))
        drawn = cv2.imread(str(copy))
        assert drawn.shape == original.shape
        assert (np.abs(drawn.astype(int) - original).max() > 100) == (copy.name != "wall.png")  # boxes, labels


def test_nothing_readable_fails(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"")
    result = call_app("image", tmp_path / "a.png", "--csv", tmp_path / "o.csv")
    assert result.returncode == EXIT_ERROR
    assert result.stderr.splitlines() == [f"error: {UNREADABLE.format(tmp_path / 'a.png')}"]


def test_two_images_of_one_name_are_refused_before_any_work(tmp_path: Path, photos: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "one.jpg").write_bytes((photos / "one.jpg").read_bytes())
    result = call_app("image", photos / "one.jpg", other, "--csv", tmp_path / "o.csv", "--annotate", tmp_path / "a")
    assert_one_line_error(result, "one.jpg", "would both be annotated into")
    assert not (tmp_path / "o.csv").exists()


def test_analyze_takes_an_image_or_a_folder_of_images(tmp_path: Path, photos: Path, weights_path: Path) -> None:
    table = app.analyze(photos / "two.png", weights=str(weights_path))
    assert tuple(table.columns) == IMAGE_COLUMNS and table["face"].dtype == "Int64"
    assert table["face"].tolist() == [0, 1]
    for name in ("one.jpg", "wall.png"):
        (tmp_path / name).write_bytes((photos / name).read_bytes())
    assert app.analyze(tmp_path, weights=str(weights_path))["file"].map(lambda f: Path(f).name).tolist() == [
        "one.jpg",
        "wall.png",
    ]
    with pytest.raises(app.AppError, match="not an image OpenCV reads"):
        app.analyze(photos / "broken.jpg", weights=str(weights_path))
    with pytest.raises(app.AppError, match="smoother, offline and drop are for videos"):
        app.analyze(photos / "one.jpg", smoother="hmm", weights=str(weights_path))


def test_tiffs_are_read_hidden_files_passed_over_broken_links_reported_and_latin1_names_escaped(
    tmp_path: Path, photos: Path, weights_path: Path
) -> None:
    """A TIFF is read; macOS's hidden `._NAME` metadata copies are not images and are passed over; a broken link is
    reported; a name in Latin-1 bytes (not UTF-8, legal on Linux) is written to the UTF-8 CSV as `ls -b` shows it."""
    folder = tmp_path / "camera"
    folder.mkdir()
    ok, tiff = cv2.imencode(".tif", cv2.imread(str(photos / "one.jpg")))
    assert ok
    (folder / "face.tif").write_bytes(tiff.tobytes())
    (folder / "._face.tif").write_bytes(b"\x00\x05\x16\x07" + bytes(80))  # AppleDouble header, no picture
    (folder / "gone.jpg").symlink_to(folder / "deleted.jpg")
    latin1 = folder / os.fsdecode(b"caf\xe9.png")
    try:
        latin1.write_bytes((photos / "two.png").read_bytes())
    except OSError:
        pytest.skip("this file system takes only UTF-8 names")
    result = call_app("image", folder, "--csv", tmp_path / "faces.csv", "--weights", weights_path)
    assert result.returncode == EXIT_PARTIAL
    assert result.stderr.splitlines() == [f"error: no such file: {folder / 'gone.jpg'} (skipped)"]
    with (tmp_path / "faces.csv").open(newline="", encoding="utf-8") as file:
        names = [Path(row["file"]).name for row in csv.DictReader(file)]
    assert names == ["caf\\xe9.png", "caf\\xe9.png", "face.tif"]


def test_a_photo_stored_sideways_is_read_upright_by_its_exif_orientation(tmp_path: Path) -> None:
    stored = np.zeros((40, 80, 3), np.uint8)  # wider than tall as stored; a phone marks it to be shown turned
    ok, jpeg = cv2.imencode(".jpg", stored)
    tiff = b"MM\x00*\x00\x00\x00\x08" + struct.pack(">HHHIHHI", 1, 0x0112, 3, 1, EXIF_ROTATE_CLOCKWISE, 0, 0)
    exif = b"\xff\xe1" + struct.pack(">H", 2 + 6 + len(tiff)) + b"Exif\x00\x00" + tiff
    path = tmp_path / "phone.jpg"
    path.write_bytes(jpeg.tobytes()[:2] + exif + jpeg.tobytes()[2:])
    assert read_image(path).shape == (80, 40, 3)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_a_webp_is_turned_upright_by_its_exif_orientation_as_pillow_shows_it(tmp_path: Path, orientation: int) -> None:
    """OpenCV applies EXIF orientation to JPEG, PNG and TIFF but not to WebP; each of the eight values must give the
    picture Pillow's own exif_transpose shows (lossless, so the pixels compare exactly)."""
    from PIL import Image, ImageOps

    stored = np.random.default_rng(orientation).integers(0, 256, (6, 10, 3), dtype=np.uint8)  # no two turns alike
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "phone.webp"
    Image.fromarray(stored[:, :, ::-1]).save(path, lossless=True, exif=exif)  # RGB to Pillow, BGR from OpenCV
    with Image.open(path) as image:
        shown = np.asarray(ImageOps.exif_transpose(image).convert("RGB"))[:, :, ::-1]
    np.testing.assert_array_equal(read_image(path), shown)


def test_a_webp_with_a_damaged_exif_chunk_is_read_as_stored(tmp_path: Path) -> None:
    stored = np.zeros((6, 10, 3), np.uint8)
    ok, webp = cv2.imencode(".webp", stored)
    data = bytearray(webp.tobytes())  # a simple (VP8) WebP: append an EXIF chunk whose TIFF header is garbage
    chunk = b"EXIF" + struct.pack("<I", 8) + b"notatiff"
    data += chunk
    data[4:8] = struct.pack("<I", len(data) - 8)
    path = tmp_path / "odd.webp"
    path.write_bytes(bytes(data))
    assert read_image(path).shape == (6, 10, 3)


def test_a_gif_in_a_folder_is_read_as_an_image(tmp_path: Path, sample_frames: list[np.ndarray]) -> None:
    from PIL import Image

    folder = tmp_path / "gifs"
    folder.mkdir()
    Image.fromarray(sample_frames[SMILE_FRAME][:, :, ::-1]).save(folder / "smile.gif")
    written = run_images([folder], tmp_path / "faces.csv", None, None, show_progress=False)
    assert (written.images, written.faces, written.skipped) == (1, 1, 0)


def test_an_image_too_large_for_opencv_is_one_line_and_skipped(tmp_path: Path) -> None:
    """A PNG whose header claims 60000x60000 pixels: OpenCV refuses to decode it; the run goes on without it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 60000, 60000, 8, 0, 0, 0, 0)  # 8-bit grey
    huge = tmp_path / "huge.png"
    rows = zlib.compress(b"\x00" * 60001 * 2)  # two black rows; the decoder stops at the size before reading on
    huge.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b""))
    with pytest.raises(AppError, match=r"^cannot read .*huge.png: OpenCV cannot decode it \(over the 2\^30 pixels"):
        read_image(huge)


@pytest.fixture(scope="module")
def face_crops(tmp_path_factory: pytest.TempPathFactory, sample_frames: list[np.ndarray]) -> Path:
    """A face data set's images: the sample's smile cut tight to the face and shrunk to FER2013's 48 px grey, where
    no detector finds a face (nothing around it to tell it from), and a plain 48 px square."""
    folder = tmp_path_factory.mktemp("crops")
    grey = cv2.cvtColor(sample_frames[SMILE_FRAME], cv2.COLOR_BGR2GRAY)
    from models.face_detector import FaceDetector

    face = FaceDetector().detect(sample_frames[SMILE_FRAME])[0]
    tight = grey[face.y + face.h // 5 : face.y + face.h, face.x + face.w // 8 : face.x + face.w - face.w // 8]
    cv2.imwrite(str(folder / "smile.png"), cv2.resize(tight, (48, 48), interpolation=cv2.INTER_AREA))
    cv2.imwrite(str(folder / "plain.png"), np.full((48, 48), 128, np.uint8))
    return folder


def test_cropped_faces_are_classified_whole_and_the_run_says_so_when_none_is_found(
    tmp_path: Path, face_crops: Path, weights_path: Path
) -> None:
    searched = call_app("image", face_crops, "--csv", tmp_path / "searched.csv", "--weights", weights_path)
    assert searched.returncode == 0 and "--cropped classifies it whole" in searched.stderr
    written = run_images([face_crops], tmp_path / "whole.csv", None, str(weights_path), False, cropped=True)
    assert written.faces == 2 and written.small_faceless == 0
    with (tmp_path / "whole.csv").open(newline="") as handle:
        rows = {Path(row["file"]).name: row for row in csv.DictReader(handle)}
    assert set(rows) == {"smile.png", "plain.png"}  # a crop is a face by the user's word: every image gets a label
    assert [rows["smile.png"][c] for c in ("face", "x", "y", "w", "h")] == ["0", "0", "0", "48", "48"]
    assert rows["smile.png"]["label"] == "happy"
    table = app.analyze(face_crops, weights=str(weights_path), cropped=True)
    assert list(table["label"]) == [rows[name]["label"] for name in ("plain.png", "smile.png")]


def test_cropped_is_for_images_only(weights_path: Path) -> None:
    with pytest.raises(AppError, match="cropped is for images"):
        app.analyze(SAMPLE_CLIP, weights=str(weights_path), cropped=True)
