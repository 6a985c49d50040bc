"""Names that are not UTF-8: OpenCV must never be handed one (it crashes the process), and text shows them as `ls -b`
does."""

from __future__ import annotations

import os
from pathlib import Path

from models.file_names import opencv_takes, readable

LATIN1_NAME = os.fsdecode(b"caf\xe9.mp4")  # "cafe.mp4" with an e-acute in Latin-1: legal on Linux, not UTF-8


def test_utf8_names_of_any_script_are_taken_and_shown_as_they_are() -> None:
    for name in ("clip.mp4", 'vïdéo, "q" 日本.mp4', Path("/tmp/会議.png")):
        assert opencv_takes(name)
        assert readable(name) == os.fspath(name)


def test_a_name_of_bytes_that_are_not_utf8_is_refused_and_shown_with_its_bytes_escaped() -> None:
    assert not opencv_takes(LATIN1_NAME)
    assert not opencv_takes(Path("/videos") / LATIN1_NAME)
    assert readable(LATIN1_NAME) == "caf\\xe9.mp4"
    assert readable(LATIN1_NAME).encode("utf-8")  # the shown name fits a UTF-8 table


def test_a_lone_surrogate_no_file_system_makes_is_escaped_too() -> None:
    assert not opencv_takes("a\ud800b")
    assert readable("a\ud800b") == "a\\ud800b"
