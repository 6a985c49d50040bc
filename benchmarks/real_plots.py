"""The real benchmark's plot: accuracy on labelled clips against switching on talking clips, one point per smoother."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from benchmarks.quality_plots import FIGURE_SIZE, _colours, _finish
from smoothing.fitting.real_score import ALL_LABELLED, TALKING


def accuracy_vs_switches(table: dict[str, dict[str, dict[str, float]]], setting: str) -> Figure:
    """Up and to the left is better; the x axis is logarithmic, since raw flicker is ten times any smoother's."""
    figure = Figure(figsize=FIGURE_SIZE)
    axes = figure.add_subplot()
    colours = _colours(list(table))
    for label, groups in table.items():
        switching = groups.get(TALKING, {}).get("switches_per_min", np.nan)
        accuracy = groups.get(ALL_LABELLED, {}).get("accuracy", np.nan)
        if np.isfinite(switching) and np.isfinite(accuracy):
            axes.scatter(switching, accuracy, color=colours[label], s=45, label=label)
        elif np.isfinite(accuracy):  # the segment vote has no switching figure of its own: a line at its accuracy
            axes.axhline(accuracy, color="grey", linestyle="--", linewidth=1, label=label)
    axes.set_xscale("log")
    return _finish(figure, "label switches per minute on talking clips (log)", f"Real clips, {setting}")
