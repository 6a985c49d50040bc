"""The one-line failure every command ends with, the exit codes it maps to, and stop signals turned into exceptions
so that every output is finalised on the way out."""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import NoReturn

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2  # a command line argparse refuses (argparse exits with it)
EXIT_PARTIAL = 3  # the video ended early (or some files of a folder failed): what was read is written
SIGNAL_EXIT_BASE = 128  # shells report a run ended by signal N as 128 + N
EXIT_INTERRUPTED = SIGNAL_EXIT_BASE + signal.SIGINT  # 130: Ctrl+C
EXIT_TERMINATED = SIGNAL_EXIT_BASE + signal.SIGTERM  # 143: `kill`, a job scheduler, a container stopping
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class AppError(Exception):
    """A failure to report in one line, with its exit code."""

    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.code = code


class CommandLineParser(argparse.ArgumentParser):
    """argparse's parser whose refusals are one `error:` line that says where the options are, exit 2, like every
    other refusal of the commands and scripts (argparse's own prints its usage text first, then a line in its form)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"error: {message} ({self.prog} --help lists the options)\n")


class Stopped(KeyboardInterrupt):
    """SIGINT or SIGTERM: a KeyboardInterrupt, so every `except KeyboardInterrupt` that closes outputs serves both."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def counted(number: int, noun: str) -> str:
    """'1 track', '2 tracks'."""
    return f"{number} {noun}{'s' * (number != 1)}"


def frames_written(count: int) -> str:
    """How many frames an output holds when a run ends early, for its error line: "1 frame was written"."""
    return f"{counted(count, 'frame')} {'was' if count == 1 else 'were'} written"


def stop_code(stop: KeyboardInterrupt) -> int:
    """The exit code for a stop: 143 for SIGTERM, 130 for SIGINT (and a plain KeyboardInterrupt)."""
    return SIGNAL_EXIT_BASE + getattr(stop, "signum", signal.SIGINT)


STOP_WORDS = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated"}  # how the one-line message names a stop


def stop_word(stop: KeyboardInterrupt) -> str:
    """How the one-line message names the stop."""
    return STOP_WORDS.get(getattr(stop, "signum", signal.SIGINT), STOP_WORDS[signal.SIGINT])


_received_stops: list[int] = []  # the signals stop handlers raised Stopped for, in order


def received_stop(stop: KeyboardInterrupt) -> KeyboardInterrupt:
    """The stop as raised: a library that turns the handler's Stopped into a bare KeyboardInterrupt (Ray's wait does)
    loses its signal, which the handler noted; a Ctrl+C that no handler saw stays as it is."""
    if isinstance(stop, Stopped) or not _received_stops:
        return stop
    return Stopped(_received_stops[-1])


def stop_handler() -> Callable[[int, FrameType | None], None]:
    """A handler raising Stopped for the first SIGINT or SIGTERM and ignoring later ones, which arrive while outputs
    are being closed (a second Ctrl+C must not cut an MP4's index short)."""
    stopping = False

    def handler(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            _received_stops.append(signum)
            raise Stopped(signum)

    return handler


@contextmanager
def stop_signals_raise() -> Iterator[None]:
    """Within: SIGINT and SIGTERM raise Stopped (see stop_handler); the previous handlers come back on exit."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield
        return
    handler = stop_handler()
    previous = {signum: signal.signal(signum, handler) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
