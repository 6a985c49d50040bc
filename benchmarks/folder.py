"""`python -m benchmarks folder`: videos per minute over a folder of copies of the sample clip, at 1 and 2 workers, on
local worker processes and as Ray tasks on a local Ray instance, each the whole `video FOLDER` command as a user runs
it (interpreter, model and Ray start included), and whether its rows match those of the local, 1-worker run."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from app.batch.folder import SUMMARY_CSV
from app.batch.folder_jobs import COMPLETE_SUFFIX
from benchmarks.clips import SAMPLE_CLIP
from benchmarks.report import Report, load_average, markdown_table
from benchmarks.timing import fmt
from models.roots import REPO
from smoothing import DEFAULT_SMOOTHER

COPIES = 48  # ~0.6 s a video on 2 cores: half a minute per configuration, start-up (~6 s with Ray) a minor share
QUICK_COPIES = 4  # --quick: the harness end to end, not a measurement
WORKERS = (1, 2)  # the question: what a second worker buys, locally and on Ray
RUNNERS = ("local", "ray")
RUN_TIMEOUT_S = 1800  # far beyond a full configuration on 2 cores: only a hung run reaches it
S_PER_MIN = 60.0


@dataclass(frozen=True)
class Config:
    """One way to run the folder: local worker processes or Ray tasks, and how many at once."""

    runner: str
    workers: int

    @property
    def name(self) -> str:
        return f"{self.runner}, {self.workers} worker{'s' if self.workers > 1 else ''}"

    def options(self) -> list[str]:
        return ["--workers", str(self.workers), *(["--ray"] if self.runner == "ray" else [])]


CONFIGS = [Config(runner, workers) for runner in RUNNERS for workers in WORKERS]
BASELINE = CONFIGS[0]  # local, 1 worker: the serial run every other is compared with


def make_folder(folder: Path, copies: int) -> Path:
    folder.mkdir(parents=True)
    for index in range(copies):
        shutil.copy(SAMPLE_CLIP, folder / f"clip{index:03d}.mp4")
    return folder


def rows_digest(folder: Path) -> str:
    """One hash over every CSV (each video's and summary.csv), in name order: equal digests, identical rows."""
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.csv")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def run_config(config: Config, folder: Path) -> dict[str, Any]:
    """The `video FOLDER` command for one configuration, timed from launch to exit."""
    command = [sys.executable, "-m", "app", "video", str(folder), "--smoother", DEFAULT_SMOOTHER, *config.options()]
    load = load_average()
    start = time.perf_counter()
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    wall_s = time.perf_counter() - start
    if result.returncode != 0 or not (folder / SUMMARY_CSV).is_file():
        last = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise RuntimeError(f"{config.name}: exit code {result.returncode}: {last}")
    videos = len(list(folder.glob(f"*{COMPLETE_SUFFIX}")))
    return {
        "runner": config.runner,
        "workers": config.workers,
        "videos": videos,
        "wall_s": wall_s,
        "videos_per_min": videos * S_PER_MIN / wall_s,
        "load_average_at_start": load,
        "rows_digest": rows_digest(folder),
    }


def ray_version() -> str | None:
    try:
        return version("ray")
    except PackageNotFoundError:
        return None


def run(quick: bool) -> Report:
    """Every configuration in turn on its own copy of the folder; ratios and row checks against local, 1 worker."""
    copies = QUICK_COPIES if quick else COPIES
    with tempfile.TemporaryDirectory(prefix="emosmooth-folder-") as root:
        runs = [
            run_config(config, make_folder(Path(root) / f"{config.runner}-{config.workers}", copies))
            for config in CONFIGS
        ]
    base = runs[CONFIGS.index(BASELINE)]
    for row in runs:
        row["ratio_to_local_1"] = row["videos_per_min"] / base["videos_per_min"]
        row["same_rows_as_local_1"] = row["rows_digest"] == base["rows_digest"]
    data = {
        "settings": {
            "copies": copies,
            "clip": SAMPLE_CLIP.name,
            "smoother": DEFAULT_SMOOTHER,
            "ray": ray_version(),
            "load_average_at_end": load_average(),
        },
        "runs": runs,
    }
    return Report("folder", data, render(data))


def render(data: dict[str, Any]) -> str:
    settings = data["settings"]
    intro = (
        f"A folder of {settings['copies']} copies of {settings['clip']} (72 frames, 640x360), smoother "
        f"{settings['smoother']}, every output written (CSV, annotated video, timeline, summary). Each row is one "
        "`python -m app video FOLDER` command timed from launch to exit, on a fresh copy of the folder, so the "
        "interpreter, the model load and, for Ray, starting and stopping a local Ray instance "
        f"(Ray {settings['ray']}) are included. Local with 1 worker runs the videos one after another with every core "
        "for the classifier; 2 local workers share the cores (torch threads = cores / workers); a Ray task takes one "
        "CPU and one torch thread. Load average (1, 5, 15 min) before each run is given (its 1-minute figure keeps "
        "some of the run before); at the end "
        f"{settings['load_average_at_end']}."
    )
    columns = ["runner", "workers", "videos", "wall s", "videos/min", "x local, 1 worker", "same rows", "load at start"]
    rows = [
        [
            row["runner"],
            row["workers"],
            row["videos"],
            fmt(row["wall_s"], 1),
            fmt(row["videos_per_min"], 1),
            f"{row['ratio_to_local_1']:.2f}",
            "yes" if row["same_rows_as_local_1"] else "NO",
            row["load_average_at_start"],
        ]
        for row in data["runs"]
    ]
    return f"{intro}\n\n{markdown_table(columns, rows)}\n"
