"""The one-line failure every command ends with, and the exit codes it maps to."""

from __future__ import annotations

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2  # a command line argparse refuses (argparse exits with it)
EXIT_PARTIAL = 3  # the video ended early (or some files of a folder failed): what was read is written
EXIT_INTERRUPTED = 130  # Ctrl+C, as shells report SIGINT


class AppError(Exception):
    """A failure to report in one line, with its exit code."""

    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.code = code
