"""Smoothers chosen by name from one table, as ultralytics chooses trackers; offline passes dispatch here too."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from smoothing.base import NUM_CLASSES, Smoother, SmootherBase, validate_prob_rows

_REGISTRY: dict[str, Callable[..., Smoother]] = {}
# The order of available(), of help texts and of the live app's keys 1-8: simplest first, learned last. A smoother
# registered under another name comes after these, in registration order.
# The GRU came after the others and takes the next key, so that the keys learned so far keep their smoothers.
ORDER: tuple[str, ...] = ("none", "ema", "window-mode", "window-mean", "hmm", "rnn", "lstm", "gru")
# The live app's and the benchmarks' default: the most accurate online smoother on real clips of sources its fit never
# saw, over the four drop settings, and the calmest (benchmarks/results/real.md); 13 us an update.
DEFAULT_SMOOTHER = "hmm"


def register(name: str) -> Callable[[type], type]:
    """Class decorator: makes the smoother (a SmootherBase: clock, gap and validation shared) available to
    create(name)."""

    def add(cls: type) -> type:
        if not issubclass(cls, SmootherBase):
            raise TypeError(f"smoother {name!r} must derive from smoothing.base.SmootherBase")
        if name in _REGISTRY:
            raise ValueError(f"smoother name {name!r} registered twice")
        _REGISTRY[name] = cls
        cls.name = name
        return cls

    return add


def available() -> list[str]:
    """Registered smoother names: ORDER's first, then any other in registration order."""
    return [name for name in ORDER if name in _REGISTRY] + [name for name in _REGISTRY if name not in ORDER]


def create(name: str, **options: Any) -> Smoother:
    """A fresh smoother; one per tracked face, since each keeps its own belief."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown smoother {name!r}; available: {', '.join(available())}")
    return _REGISTRY[name](**options)


def check_loadable(name: str, offline: bool = False) -> None:
    """Builds the smoother (and, with `offline`, its offline model) once, so that an unknown name or a missing or
    damaged parameter file (smoothing.param_files.ParamsError) fails before the first frame, not at the first face."""
    smoother = create(name)
    load_offline = getattr(smoother, "load_offline", None)
    if offline and load_offline is not None:
        load_offline()


def check_sequence(probs: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T, 7) probabilities with all-NaN rows for frames without a face, and (T,) finite times in seconds; each face
    row checked and renormalised as update() does with one frame (smoothing.base.validate_probs)."""
    probs = np.asarray(probs, dtype=np.float64)
    times = np.asarray(t)
    if times.dtype.kind not in "iuf":  # datetime64 would be cast to its unit count (33 ms read as 33 s), strings fail
        raise ValueError(f"t must be numbers of seconds, got {times.dtype} values")
    t = times.astype(np.float64)
    if probs.ndim != 2 or probs.shape[1] != NUM_CLASSES:
        raise ValueError(f"probs must have shape (T, {NUM_CLASSES}), got {probs.shape}")
    if t.shape != (len(probs),):
        raise ValueError(f"t must have shape ({len(probs)},), got {t.shape}")
    if not np.all(np.isfinite(t)):
        raise ValueError("times must be finite")
    partial = np.isnan(probs).any(axis=1) & ~np.isnan(probs).all(axis=1)
    if partial.any():
        raise ValueError(f"row {int(np.argmax(partial))} is partly NaN; a frame without a face is a whole NaN row")
    return validate_prob_rows(probs), t


def run_online(smoother: Smoother, probs: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Feeds a whole sequence through update(), NaN rows as None; the fallback for smoothers without look-ahead."""
    smoother.reset()
    out = np.empty((len(probs), NUM_CLASSES))
    for i, (row, ti) in enumerate(zip(probs, t, strict=True)):
        out[i] = smoother.update(None if np.isnan(row[0]) else row, float(ti))
    return out


def smooth_offline(name: str, probs: np.ndarray, t: np.ndarray, **options: Any) -> np.ndarray:
    """(T, 7) beliefs for a whole recording; smoothers with a smooth_offline method may look ahead."""
    probs, t = check_sequence(probs, t)
    smoother = create(name, **options)
    offline = getattr(smoother, "smooth_offline", None)
    if offline is not None:
        return offline(probs, t)
    return run_online(smoother, probs, t)
