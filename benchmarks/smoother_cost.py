"""What smoothing costs per face and frame: one update() on a realistic stream, and one update() after a gap of
k frame periods, for each way of crossing a gap (the HMM's expm(Q dt), the RNN/LSTM's one step or k steps)."""

from __future__ import annotations

import itertools
import time
from typing import Any

import numpy as np

import smoothing
from benchmarks.timing import summarize_us
from smoothing.base import NOMINAL_FRAME_PERIOD_S, NUM_CLASSES
from smoothing.fitting.sequences import frame_times, sample_path

Stream = tuple[smoothing.Smoother, list[np.ndarray | None], np.ndarray]  # a smoother and the (probs, t) it is fed

GAP_FRAMES = (1, 2, 4, 8, 16, 32, 64)  # 64 periods (4.3 s at 15 fps) stays under MAX_GAP_S, past which all reset
# (smoother, gap option); the HMM has no option: expm(Q dt) crosses any gap in one matrix product.
GAP_CONFIGS: tuple[tuple[str, str | None], ...] = (
    ("hmm", None),
    ("rnn", "time-aware"),
    ("rnn", "recursive"),
    ("lstm", "time-aware"),
    ("lstm", "recursive"),
    ("gru", "time-aware"),
    ("gru", "recursive"),
)
GAP_JITTER = 0.01  # each gap stretched by up to +-1%: real frames never repeat a dt exactly (the HMM caches per dt)
DYADIC_STEP_S = 2.0**-10  # the repeated gap is rounded to this, so t and dt are exact floats and dt truly repeats
SIGNAL = 1.6  # logit boost of the true class: about 50% per-frame accuracy, as a FER-level classifier
NOISE_STD = 1.0
NO_FACE_SHARE = 0.05
WARMUP_UPDATES = 20
ROUNDS = 10  # timed streams are interleaved in this many slices (see time_interleaved)
SEED = 0


def probability_stream(count: int, rng: np.random.Generator) -> tuple[list[np.ndarray | None], np.ndarray]:
    """`count` classifier-like outputs (None for a frame without a face) along a semi-Markov emotion path, with
    capture times at the nominal period with jitter."""
    duration = (count + 1) * NOMINAL_FRAME_PERIOD_S
    t = frame_times(duration, rng)[:count]
    labels, starts = sample_path(duration, rng)
    truth = labels[np.searchsorted(starts, t, side="right") - 1]
    logits = SIGNAL * np.eye(NUM_CLASSES)[truth] + rng.normal(0.0, NOISE_STD, (len(t), NUM_CLASSES))
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    missing = rng.random(len(t)) < NO_FACE_SHARE
    return [None if gone else row for row, gone in zip(probs, missing, strict=True)], t


def time_interleaved(streams: dict[Any, Stream], rounds: int = ROUNDS) -> dict[Any, np.ndarray]:
    """Nanoseconds of each update() per stream, the streams taken in turn in `rounds` slices so that a burst of
    outside load falls on all of them alike; each stream's first WARMUP_UPDATES are run but not kept."""
    spans = {key: np.empty(len(t), dtype=np.int64) for key, (_, _, t) in streams.items()}
    length = min(len(t) for _, _, t in streams.values())
    bounds = np.linspace(0, length, rounds + 1).astype(int)
    for low, high in itertools.pairwise(bounds):
        for key, (smoother, probs, t) in streams.items():
            out = spans[key]
            for i in range(low, high):
                start = time.perf_counter_ns()
                smoother.update(probs[i], float(t[i]))
                out[i] = time.perf_counter_ns() - start
    return {key: out[WARMUP_UPDATES:length] for key, out in spans.items()}


def update_costs(updates: int) -> dict[str, dict[str, Any]]:
    """Per registered smoother, the cost of one update() on the same stream at the nominal frame rate."""
    probs, t = probability_stream(updates + WARMUP_UPDATES, np.random.default_rng(SEED))
    streams = {name: (smoothing.create(name), probs, t) for name in smoothing.available()}
    return {name: summarize_us(spans) for name, spans in time_interleaved(streams).items()}


def gap_times(k: int, count: int, rng: np.random.Generator | None) -> np.ndarray:
    """Capture times `k` nominal periods apart; with rng each gap is jittered by GAP_JITTER so no two dts match."""
    if rng is None:
        step = round(k * NOMINAL_FRAME_PERIOD_S / DYADIC_STEP_S) * DYADIC_STEP_S
        return np.arange(count) * step
    gaps = k * NOMINAL_FRAME_PERIOD_S * (1.0 + rng.uniform(-GAP_JITTER, GAP_JITTER, count))
    return np.cumsum(gaps)


def config_name(smoother: str, gap: str | None) -> str:
    """'lstm (recursive)', or just 'hmm'."""
    return smoother if gap is None else f"{smoother} ({gap})"


def gap_costs(updates: int) -> list[dict[str, Any]]:
    """One row per (smoother, gap mode, k, distinct or repeated dt): the cost of one update() after each gap."""
    rng = np.random.default_rng(SEED)
    probs, _ = probability_stream(updates + WARMUP_UPDATES, rng)
    probs = [p if p is not None else probs[0] for p in probs]  # every update brings a face: only the gap varies
    streams: dict[tuple[str, str | None, int, bool], Stream] = {}
    for name, gap in GAP_CONFIGS:
        options = {} if gap is None else {"gap": gap}
        for k in GAP_FRAMES:
            for distinct in (True, False):
                t = gap_times(k, len(probs), rng if distinct else None)
                streams[(name, gap, k, distinct)] = (smoothing.create(name, **options), probs, t)
    return [
        {
            "config": config_name(name, gap),
            "smoother": name,
            "gap_mode": gap or "time-aware",
            "k": k,
            "distinct_dt": distinct,
            **summarize_us(spans),
        }
        for (name, gap, k, distinct), spans in time_interleaved(streams).items()
    ]


def flatness(rows: list[dict[str, Any]], config: str, distinct_dt: bool = True, stat: str = "p50_us") -> float | None:
    """cost(largest gap) / cost(one period) of one configuration: 1 is perfectly flat."""
    by_k = {row["k"]: row[stat] for row in rows if row["config"] == config and row["distinct_dt"] == distinct_dt}
    first, last = by_k.get(GAP_FRAMES[0]), by_k.get(GAP_FRAMES[-1])
    return last / first if first and last is not None else None
