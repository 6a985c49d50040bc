"""How the benchmark tests run `python -m benchmarks` as a user would: a subprocess from the repository root."""

from __future__ import annotations

import subprocess
import sys

from benchmarks.report import REPO


def run_benchmarks(*args: str, timeout_s: float) -> subprocess.CompletedProcess[str]:
    """`python -m benchmarks ARGS`, its exit code and text output."""
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", *args], cwd=REPO, capture_output=True, text=True, timeout=timeout_s
    )
