"""FER+ votes in our classes: which votes and images count, and what a majority is."""

from __future__ import annotations

import numpy as np
import pytest

from models.training.data import DEFAULT_DATA, load_split
from models.training.ferplus import DEFAULT_VOTES, NO_MAJORITY, load_votes, majority_labels, vote_distribution
from smoothing.labels import CLASSES

COLUMNS = ["neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt", "unknown", "NF"]


def write_votes(path, rows: list[list[int]], match: list[str] | None = None) -> None:
    votes = np.array(rows, dtype=np.int16)
    np.savez(path, columns=np.array(COLUMNS), votes_training=votes,
             match_training=np.array(match or ["exact"] * len(rows)))  # fmt: skip


def test_votes_are_mapped_to_our_class_order_without_contempt_and_unknown(tmp_path):
    path = tmp_path / "votes.npz"
    write_votes(path, [[1, 6, 0, 0, 0, 0, 0, 2, 1, 0]])  # neutral 1, happiness 6, contempt 2, unknown 1
    votes, usable = load_votes(path, "training")
    assert votes[0].tolist() == [0, 0, 0, 6, 0, 0, 1]  # angry, disgust, fear, happy, sad, surprise, neutral
    assert usable.tolist() == [True]
    np.testing.assert_allclose(vote_distribution(votes)[0], np.array([0, 0, 0, 6, 0, 0, 1]) / 7)


def test_not_a_face_ambiguous_and_voteless_rows_are_left_out(tmp_path):
    path = tmp_path / "votes.npz"
    rows = [
        [2, 0, 0, 0, 0, 0, 0, 0, 0, 8],  # most annotators: not a face
        [5, 0, 0, 5, 0, 0, 0, 0, 0, 0],  # fine, but its votes may be a near-twin's
        [0, 0, 0, 0, 0, 0, 0, 4, 6, 0],  # contempt and unknown only
        [0, 0, 0, 0, 9, 0, 0, 0, 0, 1],
    ]
    write_votes(path, rows, ["exact", "ambiguous", "exact", "exact_dup"])
    _, usable = load_votes(path, "training")
    assert usable.tolist() == [False, False, False, True]


def test_a_tied_top_has_no_majority():
    votes = np.zeros((3, len(CLASSES)), dtype=np.int64)
    votes[0, CLASSES.index("sad")] = 6
    votes[1, [CLASSES.index("sad"), CLASSES.index("neutral")]] = 5
    assert majority_labels(votes).tolist() == [CLASSES.index("sad"), NO_MAJORITY, NO_MAJORITY]


def test_a_missing_file_is_a_one_line_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="FER\\+ votes not found"):
        load_votes(tmp_path / "absent.npz", "training")


@pytest.mark.skipif(not DEFAULT_VOTES.is_file() or not DEFAULT_DATA.is_file(), reason="FER2013/FER+ not in ../shared")
def test_the_crowd_agrees_with_fer2013_labels_on_about_two_thirds_of_publictest():
    votes, usable = load_votes(DEFAULT_VOTES, "publictest")
    _, labels = load_split(DEFAULT_DATA, "publictest")
    majority = majority_labels(votes)
    scored = usable & (majority != NO_MAJORITY)
    assert scored.mean() > 0.9
    assert 0.6 < np.mean(majority[scored] == labels[scored]) < 0.7  # the data README: 62-67%
