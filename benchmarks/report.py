"""One benchmark's outputs (JSON data, a markdown table, PNG plots), written the same way for every benchmark.

Every JSON file carries the run's metadata (git commit, date, machine, threads), so a figure can always be traced
to the code and the machine that produced it.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import platform
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.roots import IS_CHECKOUT, REPO

DEFAULT_RESULTS_DIR = REPO / "benchmarks" / "results"
RESULTS_PATHSPEC = "benchmarks/results"


@dataclass
class Report:
    """What one benchmark produced: `data` goes to <name>.json, `markdown` to <name>.md, figures to PNGs."""

    name: str
    data: dict[str, Any]
    markdown: str
    figures: dict[str, Any] = field(default_factory=dict)  # plot name -> matplotlib Figure


def git_commit() -> str:
    """The checked-out commit, with '-dirty' when tracked code differs from it; 'unknown' outside a git checkout (an
    installed copy: the working folder's repository, if any, is another project's)."""
    if not IS_CHECKOUT:
        return "unknown"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(  # the committed results themselves do not make the code dirty
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", f":!{RESULTS_PATHSPEC}"],
            cwd=REPO,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


def run_metadata(quick: bool) -> dict[str, Any]:
    """Where and when the figures were measured."""
    import numpy as np
    import torch

    return {
        "commit": git_commit(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "cpu_count": os.cpu_count(),
        "cpu": platform.processor() or platform.machine(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "load_average_at_start": load_average(),
    }


def load_average() -> list[float] | None:
    """The system's 1, 5 and 15 minute load averages: how busy the cores were around the measurement."""
    return [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else None


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: they become null, so any JSON reader can load the file."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _finite(value.item())
    return value


def write_report(report: Report, meta: dict[str, Any], out_dir: Path = DEFAULT_RESULTS_DIR) -> list[Path]:
    """Writes <name>.json (meta + data), <name>.md and <name>-<plot>.png; returns the paths written."""
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    json_path = out_dir / f"{report.name}.json"
    json_path.write_text(json.dumps(_finite({"meta": meta, **report.data}), indent=2, allow_nan=False) + "\n")
    paths.append(json_path)
    md_path = out_dir / f"{report.name}.md"
    header = f"<!-- written by `python -m benchmarks`; commit {meta['commit']}, {meta['date']} -->\n"
    md_path.write_text(header + report.markdown.rstrip() + "\n")
    paths.append(md_path)
    for plot, figure in report.figures.items():
        png = out_dir / f"{report.name}-{plot}.png"
        figure.savefig(png, dpi=110, bbox_inches="tight")
        plt.close(figure)
        paths.append(png)
    return paths


def markdown_table(columns: list[str], rows: list[list[Any]]) -> str:
    """A GitHub markdown table; floats are expected already formatted as strings by the caller."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
