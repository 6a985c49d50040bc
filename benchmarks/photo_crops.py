"""`python -m benchmarks.photo_crops [--every 5]`: a face data set's tight crops through the `image` command, searched
for faces and with `--cropped`: how many faces the search finds and how many images get their label. Every `every`-th
FER2013 PublicTest face is written as a 48 px PNG, as such data sets ship them."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import cv2
import pandas as pd

from app.arguments import positive_int
from app.batch.images import run_images
from app.errors import CommandLineParser
from models.training.data import DEFAULT_DATA, SELECT_SPLIT, load_split
from models.training.script import run_script
from smoothing.labels import CLASSES

EVERY = 5  # every fifth face: 718 of PublicTest's 3,589, all classes in their share, in seconds


def scores(csv: Path, truth: dict[str, str]) -> tuple[float, float]:
    """(share of images with a face found, share of images whose label is right)."""
    table = pd.read_csv(csv).groupby("file").head(1)
    found = table["label"].notna().mean()
    right = (table["label"] == table["file"].map(truth)).mean()
    return float(found), float(right)


def measure(data: Path, every: int) -> None:
    faces, labels = load_split(data, SELECT_SPLIT)
    with tempfile.TemporaryDirectory(prefix="emosmooth-crops-") as folder:
        images, truth = Path(folder) / "faces", {}
        images.mkdir()
        for index in range(0, len(faces), every):
            path = images / f"{index:05d}.png"
            cv2.imwrite(str(path), faces[index])
            truth[str(path)] = CLASSES[labels[index]]
        print(f"{len(truth)} PublicTest faces as 48 px PNGs (every {every}th)")
        for cropped in (False, True):
            csv = Path(folder) / f"cropped-{cropped}.csv"
            run_images([images], csv, None, None, show_progress=False, cropped=cropped)
            found, right = scores(csv, truth)
            how = "image --cropped" if cropped else "image (faces searched)"
            print(f"{how}: a face in {found:.1%} of the images, the FER2013 label on {right:.1%}")


def main(argv: list[str] | None = None) -> int:
    parser = CommandLineParser(prog="python -m benchmarks.photo_crops", description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=positive_int, default=EVERY, help="take every N-th PublicTest face")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="npz laid out like fer2013.npz")
    args = parser.parse_args(argv)
    return run_script(lambda: measure(args.data, args.every))


if __name__ == "__main__":
    sys.exit(main())
