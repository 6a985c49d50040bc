"""The quality benchmark's two plots: the accuracy/lag trade-off and how accuracy falls as frames are dropped."""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure

MARKERS = ("o", "s", "^", "D", "v", "P")
FIGURE_SIZE = (8.0, 5.5)


def _colours(labels: list[str]) -> dict[str, Any]:
    from matplotlib import colormaps

    palette = colormaps["tab20"]
    return {label: palette(i % palette.N) for i, label in enumerate(labels)}


def _finish(figure: Figure, xlabel: str, title: str) -> Figure:
    """Labels, grid and a legend beside the axes: ~15 series would hide the points inside them."""
    axes = figure.axes[0]
    axes.set_xlabel(xlabel)
    axes.set_ylabel("frame accuracy")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7, ncol=2, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return figure


def accuracy_vs_lag(results: dict[str, dict[str, dict[str, float]]]) -> Figure:
    """One point per smoother and setting: up and to the left is better."""
    figure = Figure(figsize=FIGURE_SIZE)
    axes = figure.add_subplot()
    labels = list(next(iter(results.values())))
    colours = _colours(labels)
    for marker, table in zip(MARKERS, results.values(), strict=False):
        for label, row in table.items():
            axes.scatter(row["median_lag_s"], row["accuracy"], color=colours[label], marker=marker, s=40)
    for label in labels:
        axes.scatter([], [], color=colours[label], marker="o", label=label)
    for marker, setting in zip(MARKERS, results, strict=False):
        axes.scatter([], [], color="black", marker=marker, label=setting)
    return _finish(
        figure, "median lag after a true change (s)", "Accuracy against lag (one point per smoother and setting)"
    )


def accuracy_vs_drop_rate(results: dict[str, dict[str, dict[str, float]]], settings: dict[str, Any]) -> Figure:
    """One line per smoother over the settings with independent-style drops, ordered by drop rate."""
    figure = Figure(figsize=FIGURE_SIZE)
    axes = figure.add_subplot()
    rated = sorted(
        (name for name, pattern in settings.items() if name in results and "stall" not in name),
        key=lambda name: settings[name].rate,
    )
    labels = list(next(iter(results.values())))
    colours = _colours(labels)
    rates = [100 * settings[name].rate for name in rated]
    for label in labels:
        style = "--" if "offline" in label else (":" if label.startswith("oracle") else "-")
        values = [results[name][label]["accuracy"] for name in rated]
        axes.plot(rates, values, style, marker="o", color=colours[label], label=label)
    return _finish(figure, "frames dropped (%)", "Accuracy against drop rate (dashed: offline, dotted: oracles)")
