"""The latency benchmark's two plots: where a frame's time goes per clip, and what crossing a gap costs a smoother."""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure

from benchmarks.smoother_cost import GAP_FRAMES
from benchmarks.stages import STAGES

FIGURE_SIZE = (8.0, 4.5)
STAGE_COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#9c755f")
FRAME_BUDGETS_MS = {"60 fps": 1000.0 / 60.0, "30 fps": 1000.0 / 30.0}
BUDGET_STYLES = (":", "--")
SMOOTHER_COLOURS = {"hmm": "#4e79a7", "rnn": "#e15759", "lstm": "#59a14f", "gru": "#f28e2b"}
MODE_STYLES = {"time-aware": "-", "recursive": "--"}
CACHED_STYLE = ":"


def stage_bars(clips: list[dict[str, Any]]) -> Figure:
    """One stacked bar per clip of the mean ms per stage: means add up to the mean end-to-end time, medians don't."""
    figure = Figure(figsize=FIGURE_SIZE)
    axes = figure.add_subplot()
    names = [clip["clip"] for clip in clips]
    left = [0.0] * len(clips)
    for stage, colour in zip(STAGES, STAGE_COLOURS, strict=True):
        widths = [clip["stages"][stage]["mean_ms"] or 0.0 for clip in clips]
        axes.barh(names, widths, left=left, color=colour, label=stage)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    for (label, budget), style in zip(FRAME_BUDGETS_MS.items(), BUDGET_STYLES, strict=True):
        axes.axvline(budget, color="black", linestyle=style, linewidth=1, label=f"{label} budget ({budget:.1f} ms)")
    axes.invert_yaxis()
    axes.set_xlabel("mean ms per frame (stacked by stage)")
    axes.set_title("Where a frame's time goes")
    axes.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    axes.grid(axis="x", alpha=0.3)
    return figure


def gap_cost(rows: list[dict[str, Any]]) -> Figure:
    """Median us of one update() after a gap of k frame periods, one curve per smoother and gap mode (log-log)."""
    figure = Figure(figsize=FIGURE_SIZE)
    axes = figure.add_subplot()
    for config in dict.fromkeys(row["config"] for row in rows):
        first = next(row for row in rows if row["config"] == config)
        colour = SMOOTHER_COLOURS.get(first["smoother"])
        for distinct in (True, False):
            if first["smoother"] != "hmm" and not distinct:
                continue  # the recurrent smoothers cache nothing: repeated dts cost the same as distinct ones
            points = sorted(
                (r["k"], r["p50_us"]) for r in rows if r["config"] == config and r["distinct_dt"] == distinct
            )
            style = MODE_STYLES.get(first["gap_mode"], "-") if distinct else CACHED_STYLE
            label = config if distinct else f"{config}, one repeated dt (cached expm)"
            axes.plot(*zip(*points, strict=True), style, color=colour, marker="o", markersize=3, label=label)
    axes.set_xscale("log", base=2)
    axes.set_yscale("log")
    axes.set_xticks(GAP_FRAMES, [str(k) for k in GAP_FRAMES])
    axes.set_xlabel("gap before the update (nominal frame periods)")
    axes.set_ylabel("us per update (median)")
    axes.set_title("Cost of one update after a gap (solid: time-aware, dashed: recursive)")
    axes.grid(alpha=0.3, which="both")
    axes.legend(fontsize=8)
    return figure
