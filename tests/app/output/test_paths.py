"""An output never replaces an input or another output, whatever name it is given: checked before any work."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.errors import AppError
from app.output.paths import check_outputs, prepare_output


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"the user's video")
    return path


def test_distinct_outputs_beside_their_input_pass(tmp_path: Path, clip: Path) -> None:
    check_outputs([tmp_path / "clip.csv", tmp_path / "clip_annotated.mp4", tmp_path / "new" / "t.png"], [clip])


@pytest.mark.parametrize("name", ["same path", "dot path", "symbolic link", "hard link"])
def test_an_output_that_is_the_input_under_any_name_is_refused(tmp_path: Path, clip: Path, name: str) -> None:
    output = {"same path": clip, "dot path": tmp_path / "." / "clip.mp4"}.get(name, tmp_path / "other.csv")
    if name == "symbolic link":
        output.symlink_to(clip)
    elif name == "hard link":
        os.link(clip, output)
    with pytest.raises(AppError, match="would overwrite the input"):
        check_outputs([tmp_path / "fine.csv", output], [clip])
    with pytest.raises(AppError, match="would overwrite the input"):
        prepare_output(output, clip)
    assert clip.read_bytes() == b"the user's video"


def test_two_outputs_that_are_one_file_are_refused(tmp_path: Path) -> None:
    with pytest.raises(AppError, match="o.csv is named for two outputs"):
        check_outputs([tmp_path / "o.csv", tmp_path / "o.csv"])
    (tmp_path / "a.csv").write_text("")
    os.link(tmp_path / "a.csv", tmp_path / "b.csv")
    with pytest.raises(AppError, match="a.csv and .*b.csv are one file"):
        check_outputs([tmp_path / "a.csv", tmp_path / "b.csv"])
