"""`python -m benchmarks.photo_crops`: a face data set's crops, searched and --cropped, on a tiny FER2013-style npz."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.photo_crops import main


def test_both_ways_are_scored_and_cropped_labels_every_image(tmp_path, capsys) -> None:
    data = tmp_path / "faces.npz"
    rng = np.random.default_rng(0)
    np.savez(data, x_publictest=rng.integers(0, 256, (14, 48, 48), dtype=np.uint8), y_publictest=np.arange(14) % 7)
    assert main(["--data", str(data), "--every", "7"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "2 PublicTest faces as 48 px PNGs (every 7th)"
    assert lines[1].startswith("image (faces searched): a face in 0.0% of the images")  # noise holds no face
    assert lines[2].startswith("image --cropped: a face in 100.0% of the images")


def test_a_bad_count_is_a_usage_error() -> None:
    with pytest.raises(SystemExit):
        main(["--every", "0"])
