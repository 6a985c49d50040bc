"""The real clips' index (labels.json) is checked when read: a damaged entry is one line naming the clip, never a
clip silently left unscored or a KeyError deep in a fit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smoothing.fitting.real_sequences import RealDataError, labelled_clips, read_index

GOOD = {"kind": "onset", "source": "CK+ (research use)", "segments": [[0.0, 0.5, "neutral"], [0.6, 1.2, "happy"]]}


def index_folder(tmp_path: Path, clips: object) -> Path:
    for name in clips if isinstance(clips, dict) else ():
        (tmp_path / name).write_bytes(b"")  # read_index checks that the file is there, not what it holds
    (tmp_path / "labels.json").write_text(json.dumps({"clips": clips}))
    return tmp_path


def test_a_good_index_is_read_as_it_is(tmp_path: Path) -> None:
    assert read_index(index_folder(tmp_path, {"a.mp4": GOOD})) == {"a.mp4": GOOD}


@pytest.mark.parametrize(
    ("clips", "words"),
    [
        ([1, 2], "'clips' must map"),
        ({"a.mp4": "onset"}, "entry is not an object"),
        ({"a.mp4": {**GOOD, "source": None}}, "names no source"),
        ({"a.mp4": {**GOOD, "segments": [[0.6, 0.2, "happy"]]}}, "bad segment"),  # its ends reversed
        ({"a.mp4": {**GOOD, "segments": [["a", 0.2, "happy"]]}}, "bad segment"),
        ({"a.mp4": {**GOOD, "segments": [[0.0, float("nan"), "happy"]]}}, "bad segment"),
        ({"a.mp4": {**GOOD, "segments": "0-1 happy"}}, "segments are not a list"),
    ],
)
def test_a_damaged_entry_is_one_error_naming_what_is_wrong(tmp_path: Path, clips: object, words: str) -> None:
    with pytest.raises(RealDataError, match=words) as error:
        read_index(index_folder(tmp_path, clips))
    assert "\n" not in str(error.value)


def test_a_folder_without_a_labelled_clip_has_nothing_to_fit(tmp_path: Path) -> None:
    with pytest.raises(RealDataError, match="no clip with labelled segments"):
        labelled_clips([], tmp_path)
