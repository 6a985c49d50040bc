"""File names that are not UTF-8 text: legal on Linux (Python keeps their odd bytes as surrogates), but OpenCV's
Python binding crashes the whole process (a segfault, no message) when handed such a str, and a UTF-8 table cannot
hold them. Every path given to OpenCV is checked here first; messages and tables show the name as `ls -b` would."""

from __future__ import annotations

import os

NOT_UTF8 = "its name is not UTF-8 text, which OpenCV cannot take; rename it"


def opencv_takes(name: str | os.PathLike[str]) -> bool:
    """Whether OpenCV can be given this path or address (it must encode to UTF-8)."""
    try:
        os.fspath(name).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def readable(name: str | os.PathLike[str]) -> str:
    """The name as UTF-8 text: bytes that are not UTF-8 written as \\xNN (as `ls -b` shows them), any other lone
    surrogate as \\udNNN; a UTF-8 name is returned as it is."""
    text = os.fspath(name)
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate no file system made (U+D800-U+DC7F): escaped as it stands
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return raw.decode("utf-8", "backslashreplace")
