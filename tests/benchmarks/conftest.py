"""How the benchmark tests run `python -m benchmarks` as a user would: a subprocess from the repository root."""

from __future__ import annotations

import subprocess
import sys

from benchmarks.report import REPO


def refusal(capsys, *args: str) -> tuple[int, str]:
    """`python -m benchmarks ARGS` run in this process, for a command line refused before any work (no fresh
    interpreter to pay for): its exit code and stderr."""
    from benchmarks.__main__ import main

    try:
        code = main(list(args))
    except SystemExit as stop:  # argparse's refusal
        code = int(stop.code or 0)
    return code, capsys.readouterr().err


def run_benchmarks(*args: str, timeout_s: float) -> subprocess.CompletedProcess[str]:
    """`python -m benchmarks ARGS`, its exit code and text output."""
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", *args], cwd=REPO, capture_output=True, text=True, timeout=timeout_s
    )
