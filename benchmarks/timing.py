"""Percentile summaries of timed spans: the one place that turns nanosecond samples into reported figures."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

NS_PER_MS = 1_000_000.0
NS_PER_US = 1_000.0
MS_PER_S = 1000.0
PERCENTILES = (50, 95, 99)


def summarize_ms(samples_ns: Sequence[int] | np.ndarray) -> dict[str, Any]:
    """n, mean and p50/p95/p99 in milliseconds, with frames per second from the mean and from the median."""
    ms = np.asarray(samples_ns, dtype=np.float64) / NS_PER_MS
    if ms.size == 0:
        return {
            "n": 0,
            "mean_ms": None,
            "p50_ms": None,
            "p95_ms": None,
            "p99_ms": None,
            "fps_mean": None,
            "fps_p50": None,
        }
    p50, p95, p99 = np.percentile(ms, PERCENTILES)
    mean = float(ms.mean())
    return {
        "n": int(ms.size),
        "mean_ms": mean,
        "p50_ms": float(p50),
        "p95_ms": float(p95),
        "p99_ms": float(p99),
        "fps_mean": MS_PER_S / mean if mean > 0 else None,
        "fps_p50": MS_PER_S / p50 if p50 > 0 else None,
    }


def summarize_us(samples_ns: Sequence[int] | np.ndarray) -> dict[str, Any]:
    """n, mean and p50/p95/p99 in microseconds, for calls far shorter than a frame (smoother updates)."""
    us = np.asarray(samples_ns, dtype=np.float64) / NS_PER_US
    if us.size == 0:
        return {"n": 0, "mean_us": None, "p50_us": None, "p95_us": None, "p99_us": None}
    p50, p95, p99 = np.percentile(us, PERCENTILES)
    return {
        "n": int(us.size),
        "mean_us": float(us.mean()),
        "p50_us": float(p50),
        "p95_us": float(p95),
        "p99_us": float(p99),
    }


def fmt(value: float | None, digits: int = 2) -> str:
    """A figure for a markdown cell; a missing one shows as a dash."""
    return "-" if value is None else f"{value:.{digits}f}"
