"""Prints the Done-when table: every smoother on PublicTest sequences with frames dropped.

Scored frames are the frames that arrived with a face (the app draws a label only on a face). The segment-vote
reference labels each frame with the majority raw vote over the arrived face frames of its whole true segment.
Usage: python -m smoothing.fitting.evaluate [--drop-rate 0.3]
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

import smoothing
from app.errors import CommandLineParser
from models.training.script import drop_share
from smoothing.base import NUM_CLASSES
from smoothing.fitting.sequences import Sequences, drop_mask, load_or_build
from smoothing.smoothers.cells import CELL_KINDS
from smoothing.smoothers.recurrent import GAP_MODES

DROP_RATE: float = 0.3
DROP_SEED: int = 4242
MIN_GAP_CLOSED: float = 0.6
MAX_SWITCH_RATIO: float = 1.5
NLL_FLOOR: float = 1e-4  # one-hot outputs would otherwise score infinity on every miss
CANDIDATES: tuple[str, ...] = ("hmm", *CELL_KINDS)
WINDOWS: tuple[str, ...] = ("window-mode", "window-mean")
SECONDS_PER_MINUTE = 60.0


@dataclass
class Arrived:
    """One sequence as a smoother sees it: only the frames that arrived."""

    probs: np.ndarray
    t: np.ndarray
    labels: np.ndarray
    segment: np.ndarray
    duration_s: float

    @property
    def has_face(self) -> np.ndarray:
        return ~np.isnan(self.probs[:, 0])


def arrived_sequences(sequences: Sequences, rate: float, seed: int) -> list[Arrived]:
    out = []
    for i in range(len(sequences)):
        probs, t, labels, segment = sequences.sequence(i)
        keep = drop_mask(t, rate, np.random.default_rng(seed + i))
        out.append(Arrived(probs[keep], t[keep], labels[keep], segment[keep], float(t[-1] - t[0])))
    return out


def run_online(name: str, seq: Arrived, **options) -> tuple[np.ndarray, float]:
    """Beliefs at every arrived frame, and the seconds spent inside update()."""
    smoother = smoothing.create(name, **options)
    beliefs = np.empty((len(seq.t), NUM_CLASSES))
    rows = [None if np.isnan(row[0]) else row for row in seq.probs]
    start = time.perf_counter()
    for i, (row, ti) in enumerate(zip(rows, seq.t.tolist(), strict=True)):
        beliefs[i] = smoother.update(row, ti)
    return beliefs, time.perf_counter() - start


def segment_vote(seq: Arrived) -> np.ndarray:
    """One-hot of the majority raw label over each true segment's arrived face frames."""
    raw = np.argmax(np.nan_to_num(seq.probs, nan=0.0), axis=1)
    out = np.full((len(seq.t), NUM_CLASSES), 1.0 / NUM_CLASSES)
    face = seq.has_face
    for segment in np.unique(seq.segment):
        members = seq.segment == segment
        votes = np.bincount(raw[members & face], minlength=NUM_CLASSES)
        if votes.sum():
            out[members] = np.eye(NUM_CLASSES)[np.argmax(votes)]
    return out


def prior_shifted(seq: Arrived) -> np.ndarray:
    """Each raw frame reweighted from the classifier's class prior to the HMM's stationary prior, with no temporal
    smoothing: shows how much of a smoother's gain is the neutral-heavy prior alone."""
    hmm = smoothing.create("hmm")
    shifted = np.nan_to_num(seq.probs, nan=1.0 / NUM_CLASSES) * hmm.prior / hmm.class_prior
    return shifted / shifted.sum(axis=1, keepdims=True)


def macro_f1(truth: np.ndarray, predicted: np.ndarray) -> float:
    scores = []
    for c in range(NUM_CLASSES):
        tp = np.sum((predicted == c) & (truth == c))
        fp = np.sum((predicted == c) & (truth != c))
        fn = np.sum((predicted != c) & (truth == c))
        if tp + fp + fn:
            scores.append(2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores))


def score(beliefs: list[np.ndarray], sequences: list[Arrived]) -> dict[str, float]:
    """Accuracy, macro-F1, NLL and label switches per minute (smoother and truth) over arrived face frames."""
    truth, predicted, nll = [], [], []
    switches = truth_switches = minutes = 0.0
    for belief, seq in zip(beliefs, sequences, strict=True):
        face = seq.has_face
        labels, guess = seq.labels[face], np.argmax(belief[face], axis=1)
        truth.append(labels)
        predicted.append(guess)
        nll.append(-np.log(np.maximum(belief[face][np.arange(len(labels)), labels], NLL_FLOOR)))
        switches += np.count_nonzero(np.diff(guess))
        truth_switches += np.count_nonzero(np.diff(labels))
        minutes += seq.duration_s / SECONDS_PER_MINUTE
    truth, predicted = np.concatenate(truth), np.concatenate(predicted)
    return {
        "accuracy": float(np.mean(truth == predicted)),
        "macro_f1": macro_f1(truth, predicted),
        "nll": float(np.mean(np.concatenate(nll))),
        "switches_per_min": switches / minutes,
        "truth_switches_per_min": truth_switches / minutes,
        "switch_ratio": switches / max(truth_switches, 1.0),
    }


def configurations() -> list[tuple[str, str, dict, bool]]:
    """(row label, smoother name, options, offline) for every row of the table."""
    rows = [(name, name, {}, False) for name in ("none", "ema", *WINDOWS, "hmm")]
    for name in CELL_KINDS:
        rows += [(f"{name} ({gap})", name, {"gap": gap}, False) for gap in GAP_MODES]
    rows += [(f"{name} offline", name, {}, True) for name in ("hmm", *CELL_KINDS)]
    return rows


def evaluate(sequences: list[Arrived]) -> dict[str, dict[str, float]]:
    results = {}
    updates = sum(len(seq.t) for seq in sequences)
    for label, name, options, offline in configurations():
        if offline:
            start = time.perf_counter()
            beliefs = [smoothing.smooth_offline(name, seq.probs, seq.t, **options) for seq in sequences]
            seconds = time.perf_counter() - start
        else:
            runs = [run_online(name, seq, **options) for seq in sequences]
            beliefs, seconds = [b for b, _ in runs], sum(s for _, s in runs)
        results[label] = score(beliefs, sequences) | {"us_per_update": 1e6 * seconds / updates}
    results["segment-vote reference"] = score([segment_vote(seq) for seq in sequences], sequences)
    results["none + HMM prior (diagnostic)"] = score([prior_shifted(seq) for seq in sequences], sequences)
    none, reference = results["none"]["accuracy"], results["segment-vote reference"]["accuracy"]
    best_window = max(results[w]["accuracy"] for w in WINDOWS)
    for label, row in results.items():
        row["gap_closed"] = (row["accuracy"] - none) / (reference - none) if reference != none else float("nan")
        if label.split(" ")[0] in CANDIDATES and "offline" not in label:
            row["done"] = (
                row["gap_closed"] >= MIN_GAP_CLOSED
                and row["switch_ratio"] <= MAX_SWITCH_RATIO
                and row["accuracy"] > best_window
            )
    return results


def format_table(results: dict[str, dict[str, float]]) -> str:
    columns = ["smoother", "accuracy", "macro-F1", "NLL", "switches/min (truth)", "switch ratio", "gap closed"]
    header = "| " + " | ".join([*columns, "us/update", "done"]) + " |"
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for label, r in results.items():
        timing = f"{r['us_per_update']:.0f}" if "us_per_update" in r else "-"
        done = {True: "yes", False: "NO"}.get(r.get("done"), "")
        lines.append(
            f"| {label} | {r['accuracy']:.3f} | {r['macro_f1']:.3f} | {r['nll']:.3f} | "
            f"{r['switches_per_min']:.1f} ({r['truth_switches_per_min']:.1f}) | {r['switch_ratio']:.2f} | "
            f"{100 * r['gap_closed']:.0f}% | {timing} | {done} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = CommandLineParser(description="Done-when table of every smoother on PublicTest sequences")
    parser.add_argument("--drop-rate", type=drop_share, default=DROP_RATE, help="share of frames dropped, in [0, 1)")
    parser.add_argument("--seed", type=int, default=DROP_SEED)
    args = parser.parse_args()
    sequences = load_or_build("publictest")
    arrived = arrived_sequences(sequences, args.drop_rate, args.seed)
    frames = sum(int(seq.has_face.sum()) for seq in arrived)
    print(
        f"{len(arrived)} PublicTest sequences, {sum(s.duration_s for s in arrived) / 60:.1f} min, "
        f"{100 * args.drop_rate:.0f}% of frames dropped, {frames} scored face frames"
    )
    print(format_table(evaluate(arrived)))


if __name__ == "__main__":
    main()
