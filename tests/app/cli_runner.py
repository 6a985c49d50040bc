"""The command line run as a user runs it: `run_app` starts `python -m app` in a new process; `call_app` runs the same
`app.cli.main` in this one, with stdout and stderr captured at the file descriptors, for the many tests that check
what a command writes. A new process spends about 2 s importing torch before it does anything; `make test` has 3
minutes. Where the process itself is under test (signals, a closed stdout, the installed command, a file name that
crashes OpenCV), tests start one, and one `video` run goes end to end in a process of its own."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TextIO

from app.cli import DEBUG_ENV, main
from models.roots import REPO

TIMEOUT_S = 120
# What `python -W` leaves in place in a new interpreter (Python's documented default filters): the app's own runs
# must show and hide the warnings a user's would, whatever filters the test runner set.
DEFAULT_WARNING_FILTERS = (
    ("default", DeprecationWarning, "__main__"),
    ("ignore", DeprecationWarning, ""),
    ("ignore", PendingDeprecationWarning, ""),
    ("ignore", ImportWarning, ""),
    ("ignore", ResourceWarning, ""),
)


def run_app(*args: str | Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """`python -m app ARGS` in a new process."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop(DEBUG_ENV, None)
    return subprocess.run(
        [sys.executable, "-m", "app", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )


def call_app(*args: str | Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """`python -m app ARGS` run in this process: the exit code, and what reached file descriptors 1 and 2 (Python's
    prints, warnings, and what OpenCV's and torch's C code writes)."""
    argv = [str(arg) for arg in args]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        with descriptors_to(out, err), user_process(argv, cwd):
            try:
                code = main(argv)
            except SystemExit as stop:  # argparse's usage errors and --help, as the interpreter would exit
                code = exit_code(stop)
        return subprocess.CompletedProcess([sys.executable, "-m", "app", *argv], code, read(out), read(err))


@contextlib.contextmanager
def descriptors_to(out: IO[bytes], err: IO[bytes]) -> Iterator[None]:
    """Points fds 1 and 2, and sys.stdout and sys.stderr over them, at two files; restores all four after."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved_fds = os.dup(1), os.dup(2)
    saved_streams = sys.stdout, sys.stderr
    os.dup2(out.fileno(), 1)
    os.dup2(err.fileno(), 2)
    sys.stdout = open(1, "w", encoding="utf-8", buffering=1, closefd=False)  # noqa: SIM115 - closed below
    sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", buffering=1, closefd=False)  # noqa: SIM115
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.close()  # flushes; the descriptors stay (closefd=False)
        sys.stdout, sys.stderr = saved_streams
        for fd, saved in zip((1, 2), saved_fds, strict=True):
            os.dup2(saved, fd)
            os.close(saved)


@contextlib.contextmanager
def user_process(argv: list[str], cwd: Path) -> Iterator[None]:
    """The rest of what a new `python -m app` process would have: its argv, folder, environment and warning filters."""
    saved_argv = sys.argv
    debug = os.environ.pop(DEBUG_ENV, None)
    sys.argv = [str(REPO / "app" / "__main__.py"), *argv]
    try:
        with contextlib.chdir(cwd), warnings.catch_warnings():
            warnings.resetwarnings()
            for action, category, module in reversed(DEFAULT_WARNING_FILTERS):
                warnings.filterwarnings(action, category=category, module=module)
            warnings.showwarning = show_warning
            yield
    finally:
        sys.argv = saved_argv
        if debug is not None:
            os.environ[DEBUG_ENV] = debug


def show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """Prints a warning to stderr as the interpreter does (the test runner would otherwise collect it silently)."""
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def exit_code(stop: SystemExit) -> int:
    """The status the interpreter exits with for this SystemExit (a message is printed to stderr and exits 1)."""
    if stop.code is None:
        return 0
    if isinstance(stop.code, int):
        return stop.code
    print(stop.code, file=sys.stderr)
    return 1


def read(file: IO[bytes]) -> str:
    file.seek(0)
    return file.read().decode("utf-8", errors="backslashreplace")
