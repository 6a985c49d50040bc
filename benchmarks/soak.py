"""`python -m benchmarks soak --minutes N`: the live loop, headless, on the looping sample clip in real time for N
minutes, sampled every minute for memory, open files, threads, frame rate and latency, to show hours without a leak.

Linux only: the figures come from /proc/self. Not part of `all`: an hour's run is not a `make bench` step.
"""

from __future__ import annotations

import math
import os
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from app.engine.capture import LatestFrameCapture
from app.live.analysis import Analysed
from app.live.session import LiveSession, LiveSummary
from benchmarks import soak_plots
from benchmarks.clips import SAMPLE_CLIP
from benchmarks.report import Report, load_average, markdown_table
from benchmarks.timing import fmt, summarize_ms
from smoothing import DEFAULT_SMOOTHER

PROC_SELF = Path("/proc/self")
KIB_PER_MIB = 1024.0
BYTES_PER_MIB = 1024 * 1024
S_PER_MIN = 60.0
NS_PER_S = 1e9
DEFAULT_MINUTES = 60.0  # issue 13: a committed hour-long run
DEFAULT_PERIOD_S = 60.0  # one sample a minute: an hour gives 60 points, and sampling costs nothing noticeable
QUICK_SECONDS = 3.0  # --quick: a smoke run of the whole harness (three samples), not a soak
QUICK_PERIOD_S = 1.0
WARMUP_MIN = 5.0  # model, decoder, recorder and allocator pools settle in this time; growth counts from its end
MAX_RSS_GROWTH_PCT = 5.0
LATENCY_WINDOW_MIN = 10.0  # p99 of the last this many minutes against the first this many
MAX_P99_GROWTH_PCT = 20.0
LATENCY_CAPACITY_SLACK = 1.5  # frames kept room for, over the clip's rate times the run: processed <= captured
LIVE_CSV = "live.csv"  # the names the live app writes without a display (app.cli)
LIVE_VIDEO = "live_annotated.mp4"


@dataclass(frozen=True)
class Settings:
    """How long the loop runs and how often it is sampled."""

    duration_s: float
    period_s: float


def settings_for(quick: bool, minutes: float | None = None, period_s: float | None = None) -> Settings:
    """--quick shortens both defaults to a smoke run; --minutes and the period, when given, win."""
    duration = minutes * S_PER_MIN if minutes is not None else QUICK_SECONDS if quick else DEFAULT_MINUTES * S_PER_MIN
    period = period_s if period_s is not None else QUICK_PERIOD_S if quick else DEFAULT_PERIOD_S
    return Settings(duration_s=duration, period_s=min(period, duration))


def has_proc() -> bool:
    """Whether /proc/self is there to read memory, files and threads from (Linux)."""
    return (PROC_SELF / "status").is_file() and (PROC_SELF / "fd").is_dir() and (PROC_SELF / "task").is_dir()


def rss_mib() -> float:
    """Resident memory now (VmRSS), in MiB."""
    for line in (PROC_SELF / "status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / KIB_PER_MIB
    raise RuntimeError("no VmRSS line in /proc/self/status")


def process_counts() -> dict[str, int]:
    """Open file descriptors and threads: native ones (torch's and OpenCV's pools too) and Python's."""
    return {
        "open_fds": len(os.listdir(PROC_SELF / "fd")),  # the listing's own descriptor is in every count alike
        "threads_native": len(os.listdir(PROC_SELF / "task")),
        "threads_python": threading.active_count(),
    }


def load_1min() -> float | None:
    """The 1-minute load average: how busy the cores were besides this run."""
    load = load_average()
    return load[0] if load else None


class SoakSession(LiveSession):
    """The live loop as the app runs it, plus a sample whenever a period has passed and a stop at the run's end."""

    def __init__(self, *args: Any, settings: Settings, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.settings = settings
        capacity = math.ceil(settings.duration_s * self.fps * LATENCY_CAPACITY_SLACK) + 1
        self.latencies_ns = np.full(capacity, np.nan)  # written now, so the harness's memory does not grow later
        self.samples: list[dict[str, Any]] = []
        self.sample_ends: list[int] = []  # frames processed when each sample was taken
        self._next_sample_s = settings.period_s
        self._period_start = (0.0, 0, 0, 0)  # time, processed, captured, dropped
        self._last_start = self._period_start  # the last sample's own start, to redo it with late frames
        self._ended = False

    def take(self, analysed: Analysed) -> None:
        super().take(analysed)
        if self.processed > len(self.latencies_ns):  # a source faster than it said: room doubles, rarely
            self.latencies_ns = np.concatenate([self.latencies_ns, np.full(len(self.latencies_ns), np.nan)])
        self.latencies_ns[self.processed - 1] = self.last_latency_s * NS_PER_S
        now = self.capture.now()
        if self._ended:  # frames analysed before the end but handed over after it belong to the last sample
            self.samples[-1] |= self.frame_figures(self._last_start, now)
            self.sample_ends[-1] = self.processed
            return
        self._ended = now >= self.settings.duration_s
        if now >= self._next_sample_s or self._ended:
            self.take_sample(now)
            self._next_sample_s = (math.floor(now / self.settings.period_s) + 1) * self.settings.period_s
        if self._ended:
            self.max_frames = self.processed  # the loop's own frame limit ends the run after this frame

    def frame_figures(self, period_start: tuple[float, int, int, int], now: float) -> dict[str, Any]:
        """Frames, rate, latency and drops of the frames handed over since period_start."""
        start, processed, captured, dropped = period_start
        frames = self.processed - processed
        latency = summarize_ms(self.latencies_ns[processed : self.processed])
        new_captured = self.capture.captured - captured
        return {
            "frames": frames,
            "processed_fps": frames / (now - start) if now > start else None,
            "latency_p50_ms": latency["p50_ms"],
            "latency_p95_ms": latency["p95_ms"],
            "latency_p99_ms": latency["p99_ms"],
            "dropped_share": (self.dropped - dropped) / new_captured if new_captured else None,
        }

    def take_sample(self, now: float) -> None:
        """One row of figures for the period since the last sample."""
        sample = {
            "minute": round(now / S_PER_MIN, 3),
            "rss_mib": round(rss_mib(), 2),
            **process_counts(),
            **self.frame_figures(self._period_start, now),
            "load_1min": load_1min(),
        }
        self.samples.append(sample)
        self.sample_ends.append(self.processed)
        self._last_start = self._period_start
        self._period_start = (now, self.processed, self.capture.captured, self.dropped)
        print(
            f"soak: minute {sample['minute']:.2f}: RSS {sample['rss_mib']:.1f} MiB, {sample['open_fds']} fds, "
            f"{sample['threads_native']} threads, {fmt(sample['processed_fps'], 1)} fps, "
            f"p99 {fmt(sample['latency_p99_ms'], 1)} ms",
            flush=True,
        )


def window_frames(latencies_ns: np.ndarray, sample_ends: Sequence[int], window: slice) -> np.ndarray:
    """Every frame's latency in the window's samples, so that a window's p99 is of its frames, not of sample p99s."""
    chosen = range(len(sample_ends))[window]
    if not chosen:
        return latencies_ns[:0]
    start = sample_ends[chosen[0] - 1] if chosen[0] > 0 else 0
    return latencies_ns[start : sample_ends[chosen[-1]]]


def warmup_index(count: int, period_s: float) -> tuple[int, str]:
    """The sample growth is measured from: the one at minute 5, or the middle one of a run shorter than 10 minutes."""
    per_warmup = max(round(WARMUP_MIN * S_PER_MIN / period_s), 1)
    if count >= 2 * per_warmup:
        return per_warmup - 1, f"the sample at minute {WARMUP_MIN:g}"
    return (count - 1) // 2, f"the middle sample (the run is shorter than {2 * WARMUP_MIN:g} minutes)"


def latency_windows(count: int, period_s: float) -> tuple[slice, slice, str]:
    """The samples of the first and last latency windows: 10 minutes each, or the halves of a run shorter than 20."""
    per_window = max(round(LATENCY_WINDOW_MIN * S_PER_MIN / period_s), 1)
    if count >= 2 * per_window:
        rule = f"first and last {LATENCY_WINDOW_MIN:g} minutes"
        return slice(0, per_window), slice(count - per_window, count), rule
    half = max(count // 2, 1)
    rule = f"first and last halves (the run is shorter than {2 * LATENCY_WINDOW_MIN:g} minutes)"
    return slice(0, half), slice(count - half, count), rule


def check_targets(
    samples: Sequence[dict[str, Any]], reference: int, p99_first_ms: float | None, p99_last_ms: float | None
) -> list[dict[str, Any]]:
    """Each target with what was measured and whether it passes; reported, never asserted. Counts pass when the last
    sample is no higher than the reference one; p99 when the end is at most 20% slower (faster is no fault)."""
    ref, last = samples[reference], samples[-1]
    span = f"minute {ref['minute']:.2f} -> {last['minute']:.2f}"
    targets = []

    def add(name: str, measured: float | None, limit: float, unit: str, detail: str) -> None:
        ok = measured is not None and measured <= limit
        targets.append(
            {"target": name, "measured": measured, "limit": limit, "unit": unit, "pass": ok, "detail": detail}
        )

    growth = 100.0 * (last["rss_mib"] / ref["rss_mib"] - 1.0)
    add(
        "RSS growth after warm-up",
        growth,
        MAX_RSS_GROWTH_PCT,
        "%",
        f"{ref['rss_mib']:.1f} -> {last['rss_mib']:.1f} MiB, {span}",
    )
    for field, unit in (("open_fds", "open files"), ("threads_native", "threads")):
        add(
            f"{unit}: growth after warm-up", last[field] - ref[field], 0, unit, f"{ref[field]} -> {last[field]}, {span}"
        )
    p99_growth = 100.0 * (p99_last_ms / p99_first_ms - 1.0) if p99_first_ms and p99_last_ms is not None else None
    add(
        "p99 latency, last window over first",
        p99_growth,
        MAX_P99_GROWTH_PCT,
        "%",
        f"{fmt(p99_first_ms)} -> {fmt(p99_last_ms)} ms",
    )
    return targets


def measure(settings: Settings) -> tuple[SoakSession, LiveSummary, dict[str, Any]]:
    """Runs the loop as `emosmooth live --headless --loop` would on the sample clip; returns the session (samples,
    latencies), its summary and its output files' final sizes, the temporary folder removed."""
    import torch

    from app.engine.pipeline import Pipeline
    from app.engine.sources import LoopedFileSource
    from app.engine.weights import load_weights

    previous_threads = torch.get_num_threads()
    try:
        classifier = load_weights(None)
        source = LoopedFileSource(SAMPLE_CLIP)
        try:
            with tempfile.TemporaryDirectory(prefix="emosmooth-soak-") as name:
                folder = Path(name)
                session = SoakSession(
                    Pipeline(classifier, DEFAULT_SMOOTHER),
                    LatestFrameCapture(source, paced=True),
                    source.fps,
                    folder,
                    folder / LIVE_CSV,
                    folder / LIVE_VIDEO,
                    window=False,
                    settings=settings,
                )
                summary = session.run()
                sizes = {path.name: path.stat().st_size for path in sorted(folder.iterdir())}
        finally:
            source.close()
    finally:
        torch.set_num_threads(previous_threads)
    return session, summary, {"folder": name, "bytes": sizes, "removed": not folder.exists()}


def settings_text(data: dict[str, Any]) -> str:
    """The conditions of the run, for the top of the report."""
    s = data["settings"]
    return (
        f"{s['duration_s'] / S_PER_MIN:g} minutes of the live loop, headless, on {s['clip']} looped and paced in real "
        f"time ({s['clip_fps']:g} fps), smoother {s['smoother']}, CSV and view recording on (into a temporary folder, "
        f"removed at the end); a sample every {s['period_s']:g} s. Torch threads {s['torch_threads']} (the app's); "
        f"1-minute load average at start {s['load_at_start']}, at end {s['load_at_end']}. "
        f"Growth is measured from {s['warmup_reference']} to the last; latency compares the "
        f"{s['latency_window_rule']}, each window's p99 taken over all its frames. Latency is capture to result "
        "(the view's status figure)."
    )


def measured_text(target: dict[str, Any]) -> str:
    """Percentages with two decimals, counts as signed whole numbers."""
    measured = target["measured"]
    return fmt(measured) if target["unit"] == "%" or measured is None else f"{measured:+d}"


def targets_table(targets: list[dict[str, Any]]) -> str:
    columns = ["target", "limit", "measured", "from -> to", "result"]
    rows = [
        [t["target"], f"<= {t['limit']:g} {t['unit']}", f"{measured_text(t)} {t['unit']}", t["detail"],
         "pass" if t["pass"] else "MISS"]
        for t in targets
    ]  # fmt: skip
    return markdown_table(columns, rows)


def samples_table(samples: list[dict[str, Any]]) -> str:
    columns = [
        "minute", "RSS MiB", "open files", "threads (native / Python)", "frames", "fps", "latency p50 / p95 / p99 ms",
        "dropped", "load 1 min",
    ]  # fmt: skip
    rows = [
        [
            f"{s['minute']:.2f}",
            f"{s['rss_mib']:.1f}",
            s["open_fds"],
            f"{s['threads_native']} / {s['threads_python']}",
            s["frames"],
            fmt(s["processed_fps"], 1),
            f"{fmt(s['latency_p50_ms'])} / {fmt(s['latency_p95_ms'])} / {fmt(s['latency_p99_ms'])}",
            "-" if s["dropped_share"] is None else f"{100 * s['dropped_share']:.0f}%",
            fmt(s["load_1min"]),
        ]
        for s in samples
    ]
    return markdown_table(columns, rows)


def render(data: dict[str, Any]) -> str:
    """The markdown report."""
    totals, outputs = data["totals"], data["outputs"]
    files = ", ".join(f"{name} {size / BYTES_PER_MIB:.2f} MiB" for name, size in outputs["bytes"].items())
    return "\n".join([
        settings_text(data),
        "", "### Targets (reported, not asserted)", "", targets_table(data["targets"]),
        "", "### Samples (each over the period since the one before)", "", samples_table(data["samples"]),
        "", f"In all: {totals['captured']} frames captured, {totals['processed']} processed, {totals['dropped']} "
        f"dropped; latency p50 {fmt(totals['latency']['p50_ms'])} ms, p99 {fmt(totals['latency']['p99_ms'])} ms. "
        f"Outputs at the end: {files}; temporary folder removed: {'yes' if outputs['removed'] else 'NO'}.",
    ])  # fmt: skip


def run(quick: bool, minutes: float | None = None, period_s: float | None = None) -> Report:
    """The soak; --quick is a run of a few seconds that checks the harness, not the process."""
    if not has_proc():
        raise RuntimeError("the soak reads memory, open files and threads from /proc/self: Linux only")
    from app.engine.weights import CLASSIFIER_THREADS

    settings = settings_for(quick, minutes, period_s)
    load_at_start = load_1min()
    session, summary, outputs = measure(settings)
    samples = session.samples
    if not samples:
        raise RuntimeError("the live loop processed no frame")
    reference, reference_rule = warmup_index(len(samples), settings.period_s)
    first, last, window_rule = latency_windows(len(samples), settings.period_s)
    p99_first, p99_last = (
        summarize_ms(window_frames(session.latencies_ns, session.sample_ends, window))["p99_ms"]
        for window in (first, last)
    )
    data = {
        "settings": {
            **asdict(settings),
            "clip": SAMPLE_CLIP.name,
            "clip_fps": session.fps,
            "smoother": DEFAULT_SMOOTHER,
            "torch_threads": CLASSIFIER_THREADS,
            "load_at_start": load_at_start,
            "load_at_end": load_1min(),
            "warmup_reference": reference_rule,
            "warmup_reference_index": reference,
            "latency_window_rule": window_rule,
        },
        "samples": samples,
        "latency_windows": {"first_p99_ms": p99_first, "last_p99_ms": p99_last},
        "totals": {
            "captured": summary.captured,
            "processed": summary.processed,
            "dropped": summary.dropped,
            "elapsed_s": summary.elapsed_s,
            "latency": summarize_ms(session.latencies_ns[: session.processed]),
        },
        "outputs": outputs,
        "targets": check_targets(samples, reference, p99_first, p99_last),
    }
    rss_limit = samples[reference]["rss_mib"] * (1.0 + MAX_RSS_GROWTH_PCT / 100.0)
    figures = {"over-time": soak_plots.over_time(samples, reference, rss_limit)}
    return Report("soak", data, render(data), figures)
