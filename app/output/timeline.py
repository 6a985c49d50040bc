"""The timeline PNG: per track, smoothed probabilities as stacked areas with the raw top label as ticks above,
so that one picture shows how much flicker the smoother removed. Like the summary, it draws the observed frames
only (app.output.summary.COUNTED_ROWS), each belief held until the face's next sighting."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from app.engine.results import FaceResult
from app.errors import AppError
from app.output.colours import CLASS_COLOURS, rgb
from app.output.summary import COUNTED_ROWS, frame_durations, sighting_durations
from models.file_names import readable
from smoothing.labels import CLASSES, NUM_CLASSES

# matplotlib's warning for a character its font (DejaVu Sans) has no glyph for
MISSING_GLYPH_WARNING = r"Glyph \d+ .* missing from font"


def check_timeline_path(path: Path) -> None:
    """Refuses, before any work, a name whose ending matplotlib cannot write (it would fail once the video is done)
    or a name without one (matplotlib would add .png, and the file would not be where the user looks)."""
    from matplotlib.backend_bases import FigureCanvasBase

    formats = FigureCanvasBase.get_supported_filetypes()
    if path.suffix[1:].lower() not in formats:
        endings = ", ".join(f".{ending}" for ending in sorted(formats))
        raise AppError(f"cannot write the timeline {path}: its name must end in one of {endings}")


FIGURE_WIDTH_IN = 10.0
TRACK_HEIGHT_IN = 2.2
DPI = 100
TICK_Y = 1.06  # the raw-label ticks sit just above the stacked areas, which end at 1
TICK_SIZE = 60


def write_timeline(
    path: Path, times: Sequence[float], tracked: Sequence[Sequence[FaceResult]], title: str = ""
) -> None:
    """One panel per track (a placeholder line when no face was seen); smoothed beliefs, else raw probabilities."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    times = np.asarray(times, dtype=np.float64)
    durations = frame_durations(times)
    tracks = sorted({face.track for faces in tracked for face in faces})
    figure, axes = plt.subplots(
        max(len(tracks), 1), 1, figsize=(FIGURE_WIDTH_IN, TRACK_HEIGHT_IN * max(len(tracks), 1)), squeeze=False
    )
    colours = [rgb(c) for c in CLASS_COLOURS]
    for axis, track in zip(axes[:, 0], tracks, strict=False):
        shown = np.full((len(times), NUM_CLASSES), np.nan)
        raw_labels = np.full(len(times), -1)
        for position, faces in enumerate(tracked):
            for face in faces:
                if face.track == track:
                    shown[position] = face.shown_probs
                    raw_labels[position] = face.label_index
        seen = raw_labels >= 0
        # each belief holds until the face's next sighting (drawn as steps), so gaps and drops stay readable
        end = times[seen][-1] + sighting_durations(durations, np.flatnonzero(seen))[-1]
        step_times = np.append(times[seen], end)
        step_values = np.vstack([shown[seen], shown[seen][-1:]])
        axis.stackplot(step_times, step_values.T, colors=colours, labels=CLASSES, linewidth=0, step="post")
        axis.scatter(
            times[seen], np.full(seen.sum(), TICK_Y), c=[colours[i] for i in raw_labels[seen]], marker="|", s=TICK_SIZE
        )
        axis.set_ylim(0, TICK_Y + 0.06)
        axis.set_xlim(times[0], times[-1] + durations[-1])
        axis.set_ylabel(f"track {track}")
        axis.set_yticks([0, 0.5, 1])
    if tracks:
        axes[0, 0].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small", frameon=False)
    else:
        axes[0, 0].text(0.5, 0.5, "no face found", ha="center", va="center", transform=axes[0, 0].transAxes)
    axes[-1, 0].set_xlabel(
        f"time (s); {COUNTED_ROWS} frames only, each held until the next; ticks above: raw top label"
    )
    if title:
        axes[0, 0].set_title(readable(title))
    with warnings.catch_warnings():  # a name in a script the font lacks (CJK) is drawn as boxes; that is no error
        warnings.filterwarnings("ignore", MISSING_GLYPH_WARNING, UserWarning)
        figure.tight_layout()
        figure.savefig(path, dpi=DPI)
    plt.close(figure)
