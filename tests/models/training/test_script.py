"""The scripts' shared edge: one `error:` line and exit 2 for bad data, argparse types that refuse impossible
numbers, and outputs checked before the work."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from app.arguments import non_negative_int, positive_int
from models.training.data import load_split
from models.training.ferplus import load_votes
from models.training.script import (
    EXIT_BAD_INPUT,
    drop_share,
    existing_file,
    run_script,
    share,
    writable_file,
)


def test_a_failing_script_says_one_line_without_quotes_or_errno(tmp_path, capsys):
    def missing_key() -> None:
        raise KeyError("split 'x' not in faces.npz")

    def folder_read() -> None:
        (tmp_path / "f").mkdir()
        (tmp_path / "f").read_text()

    assert run_script(missing_key) == EXIT_BAD_INPUT
    assert capsys.readouterr().err == "error: split 'x' not in faces.npz\n"
    assert run_script(folder_read) == EXIT_BAD_INPUT
    assert capsys.readouterr().err == f"error: {tmp_path / 'f'}: Is a directory\n"
    assert run_script(lambda: None) == 0 and run_script(lambda: 3) == 3


@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        (positive_int, "1", ["0", "-2", "1.5", "x"]),
        (non_negative_int, "0", ["-1", "nan"]),
        (share, "1", ["-0.1", "1.5", "nan", "inf"]),
        (drop_share, "0", ["1", "-0.5", "5", "nan"]),
    ],
)
def test_impossible_numbers_are_usage_errors(kind, good, bad):
    kind(good)
    for text in bad:
        with pytest.raises(argparse.ArgumentTypeError):
            kind(text)


def test_files_to_read_and_write_are_checked_up_front(tmp_path):
    with pytest.raises(argparse.ArgumentTypeError, match="no such file"):
        existing_file(str(tmp_path / "absent.pt"))
    with pytest.raises(argparse.ArgumentTypeError, match="is a folder"):
        existing_file(str(tmp_path))
    with pytest.raises(ValueError, match="is a folder"):
        writable_file(tmp_path)
    (tmp_path / "a-file").write_text("")
    with pytest.raises(ValueError, match="cannot create the folder"):
        writable_file(tmp_path / "a-file" / "report.json")
    assert writable_file(tmp_path / "new" / "report.json").parent.is_dir()


def test_a_damaged_npz_is_one_error_naming_it(tmp_path):
    empty, cut, single = tmp_path / "empty.npz", tmp_path / "cut.npz", tmp_path / "single.npz"
    empty.write_bytes(b"")
    np.savez(cut, x_a=np.zeros((3, 48, 48), np.uint8), y_a=np.zeros(3))
    cut.write_bytes(cut.read_bytes()[:200])
    np.save(single, np.zeros(3))
    (tmp_path / "single.npz.npy").rename(single)
    for path in (empty, cut, single):
        with pytest.raises(ValueError, match=str(path)):
            load_split(path, "a")


def test_faces_labels_and_votes_are_checked_for_what_they_hold(tmp_path):
    faces = tmp_path / "faces.npz"
    np.savez(faces, x_a=np.zeros((3, 48, 48), np.uint8), y_a=np.array([0, 7, 1]))
    with pytest.raises(ValueError, match="labels must be whole numbers 0-6"):
        load_split(faces, "a")
    np.savez(faces, x_a=np.zeros((0, 48, 48), np.uint8), y_a=np.zeros(0, int))
    with pytest.raises(ValueError, match="N at least 1"):
        load_split(faces, "a")
    votes = tmp_path / "votes.npz"
    columns = np.array(["neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt", "NF"])
    np.savez(votes, columns=columns, votes_a=np.ones((3, len(columns)), np.int16))
    assert load_votes(votes, "a", rows=3)[0].shape == (3, 7)
    with pytest.raises(ValueError, match="has 3 a rows, the faces 5"):
        load_votes(votes, "a", rows=5)
    np.savez(votes, columns=columns, votes_a=np.ones((3, 3), np.int16))
    with pytest.raises(ValueError, match="one row of 9 vote counts per face"):
        load_votes(votes, "a")
    np.savez(votes, votes_a=np.ones((3, 9), np.int16))
    with pytest.raises(ValueError, match="no 'columns' array"):
        load_votes(votes, "a")
