"""The soak benchmark's plot: memory, open files and threads, frame rate and latency against minutes, in one figure,
so that a leak shows as a slope after the warm-up line."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from matplotlib.figure import Figure

FIGURE_SIZE = (10.0, 7.0)
COLOURS = {"rss": "#4e79a7", "fds": "#f28e2b", "threads": "#59a14f", "python": "#9c755f", "fps": "#b07aa1"}
LOAD_COLOUR = "#7f7f7f"  # other work on the machine, beside the frame rate it explains
HEADROOM = 1.25  # room above the highest point, so that a steady line does not run along the frame
LATENCY_COLOURS = {"latency_p50_ms": "#4e79a7", "latency_p99_ms": "#e15759"}
MARKER_SIZE = 3
COUNT_STYLES = {"open_fds": "-s", "threads_native": "--o", "threads_python": ":^"}  # equal counts stay apart


def over_time(samples: Sequence[dict[str, Any]], reference: int, rss_limit_mib: float) -> Figure:
    """Four panels against minutes; the dashed line marks the sample growth is measured from, the dotted one the
    most memory the target allows, so that a slope can be judged against it."""
    figure = Figure(figsize=FIGURE_SIZE, layout="constrained")
    (rss, counts), (fps, latency) = figure.subplots(2, 2, sharex=True)
    minutes = [s["minute"] for s in samples]

    def line(axes: Any, field: str, colour: str, label: str) -> None:
        values = [float("nan") if s[field] is None else s[field] for s in samples]
        style = COUNT_STYLES.get(field, "-o")
        axes.plot(minutes, values, style, color=colour, markersize=MARKER_SIZE, label=label)

    line(rss, "rss_mib", COLOURS["rss"], "RSS")
    rss.axhline(rss_limit_mib, color="#e15759", linestyle=":", linewidth=1, label="target's limit")
    rss.set_ylabel("MiB")
    rss.set_title("Resident memory")
    line(counts, "open_fds", COLOURS["fds"], "open files")
    line(counts, "threads_native", COLOURS["threads"], "threads (native)")
    line(counts, "threads_python", COLOURS["python"], "threads (Python)")
    counts.set_ylabel("count")
    counts.set_ylim(bottom=0)
    counts.set_title("Open files and threads")
    line(fps, "processed_fps", COLOURS["fps"], "processed")
    fps.set_ylabel("frames / s")
    fps.set_ylim(0, HEADROOM * max((s["processed_fps"] or 0.0 for s in samples), default=1.0) or 1.0)
    fps.set_title("Processed frame rate (grey: machine load)")
    load = fps.twinx()
    loads = [s["load_1min"] for s in samples]
    load.plot(minutes, loads, ":", color=LOAD_COLOUR)
    load.set_ylabel("load (1 min)", color=LOAD_COLOUR)
    load.set_ylim(0, HEADROOM * max(max(loads), 1.0))
    line(latency, "latency_p50_ms", LATENCY_COLOURS["latency_p50_ms"], "p50")
    line(latency, "latency_p99_ms", LATENCY_COLOURS["latency_p99_ms"], "p99")
    latency.set_ylabel("ms, capture to result")
    latency.set_ylim(bottom=0)
    latency.set_title("Latency per period")
    for axes in (rss, counts, fps, latency):
        axes.axvline(
            samples[reference]["minute"], color="black", linestyle="--", linewidth=1, label="growth measured from"
        )
        axes.set_xlim(left=0)
        axes.grid(alpha=0.3)
        axes.legend(fontsize=8)
    for axes in (fps, latency):
        axes.set_xlabel("minutes")
    return figure
