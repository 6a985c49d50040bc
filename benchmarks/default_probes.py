"""Probes for issue 24's "right and calm" default, on the real clips at 30% drops, each fitted smoother scored by its
leave-one-source-out fit: averaging the online beliefs, display rules on top of a belief (a margin, a dwell), the
HMM reading the nets' beliefs as its evidence, where the HMM's switches on talking clips come from, and (--grid) a
wider grid of HMM settings scored in-sample with the fit's guards. None of them shipped; README, Smoothers, says why.

Usage: python -m benchmarks.default_probes [--grid]
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable

import numpy as np

import smoothing
from app.errors import CommandLineParser
from benchmarks.configs import SETTINGS
from benchmarks.real import DROP_SEEDS, TARGET_SETTING, clip_arrivals
from smoothing.fitting.hmm_real_fit import HubSetting, clip_tallies, is_admissible
from smoothing.fitting.loso import fold_options
from smoothing.fitting.real_score import ALL_LABELLED, ONSET_KIND, TALKING, pooled, summarise, tally_clip
from smoothing.fitting.real_sequences import RealClip, load_real_clips
from smoothing.labels import CLASSES
from smoothing.registry import run_online

ONLINE = ("hmm", "rnn", "lstm")  # the fitted smoothers the probes combine (time-aware gaps)
MARGINS = (0.1, 0.2, 0.3)  # a new label is shown once its belief exceeds the shown one's by this much
DWELLS_S = (0.1, 0.2, 0.3)  # ... or once it has led for this long
GRID = {  # the wider HMM grid: HubSetting's fields
    "beta": (0.7, 1.0, 1.5),
    "correlation_s": (0.05, 0.1, 0.2),
    "out_rate": (0.03, 0.1),
    "back_rate": (0.03, 0.1, 0.25),
    "neutral_bias": (0.0, 0.5, 1.0),
}
MAX_SWITCHES_PER_MIN = 8.0  # issue 24's bound for the default on talking clips


class Run:
    """One clip under one drop pattern: the arrived frames and each fitted smoother's online beliefs there."""

    def __init__(self, clip: RealClip, keep: np.ndarray) -> None:
        self.clip, self.keep = clip, keep
        self.probs, self.t, self.face = clip.probs[keep], clip.t[keep], clip.has_face[keep]
        self.beliefs = {name: self.filtered(name, self.probs) for name in ONLINE}

    def filtered(self, name: str, evidence: np.ndarray) -> np.ndarray:
        smoother = smoothing.create(name, **fold_options(name, self.clip.source))
        return run_online(smoother, evidence, self.t)

    def hmm_over(self, beliefs: np.ndarray) -> np.ndarray:
        """The HMM fitted without this clip's source, fed another smoother's beliefs at the face frames."""
        return self.filtered("hmm", np.where(self.face[:, None], beliefs, np.nan))


def with_margin(beliefs: np.ndarray, margin: float) -> np.ndarray:
    shown = np.empty(len(beliefs), dtype=np.int64)
    current = int(np.argmax(beliefs[0]))
    for i, row in enumerate(beliefs):
        best = int(np.argmax(row))
        if row[best] - row[current] > margin:
            current = best
        shown[i] = current
    return shown


def with_dwell(beliefs: np.ndarray, t: np.ndarray, dwell_s: float) -> np.ndarray:
    shown = np.empty(len(beliefs), dtype=np.int64)
    current = challenger = int(np.argmax(beliefs[0]))
    since = t[0]
    for i, row in enumerate(beliefs):
        best = int(np.argmax(row))
        if best == current:
            challenger = current
        elif best != challenger:
            challenger, since = best, t[i]
        if challenger != current and t[i] - since >= dwell_s:
            current = challenger
        shown[i] = current
    return shown


def scored(runs: list[Run], shown_of: Callable[[Run], np.ndarray]) -> str:
    summary = summarise(pooled([(run.clip, tally_clip(run.clip, run.keep, shown_of(run))) for run in runs]))
    return (f"{summary[ALL_LABELLED]['accuracy']:.3f} at {summary[TALKING]['switches_per_min']:.1f} switches/min, "
            f"onset lag p50 {summary[ONSET_KIND]['onset_lag_p50_s']:.2f} s")  # fmt: skip


def probes(runs: list[Run]) -> None:
    def mean_of(run: Run) -> np.ndarray:
        return np.mean([run.beliefs[name] for name in ONLINE], axis=0)

    print(f"leave-one-source-out, {TARGET_SETTING}:")
    for name in ONLINE:
        print(f"  {name}: {scored(runs, lambda run, name=name: run.beliefs[name].argmax(axis=1))}")
    print(f"  mean of {', '.join(ONLINE)}: {scored(runs, lambda run: mean_of(run).argmax(axis=1))}")
    for margin in MARGINS:
        print(f"  hmm, margin {margin}: {scored(runs, lambda run, m=margin: with_margin(run.beliefs['hmm'], m))}")
    for dwell in DWELLS_S:
        rule = scored(runs, lambda run, d=dwell: with_dwell(run.beliefs["hmm"], run.t, d))
        print(f"  hmm, dwell {dwell} s: {rule}")
    for name in ("rnn", "lstm"):
        print(f"  hmm reading {name}: {scored(runs, lambda run, n=name: run.hmm_over(run.beliefs[n]).argmax(axis=1))}")
    nets = scored(runs, lambda run: run.hmm_over((run.beliefs["rnn"] + run.beliefs["lstm"]) / 2).argmax(axis=1))
    print(f"  hmm reading the mean of rnn and lstm: {nets}")


def talking_switches(runs: list[Run]) -> None:
    """Which label changes the HMM shows on the talking clips, and how long its non-neutral runs last."""
    pairs: Counter = Counter()
    runs_s: list[float] = []
    for run in (run for run in runs if run.clip.kind == TALKING):
        labels, t = run.beliefs["hmm"][run.face].argmax(axis=1), run.t[run.face]
        changes = np.flatnonzero(np.diff(labels)) + 1
        pairs.update((CLASSES[labels[i - 1]], CLASSES[labels[i]]) for i in changes)
        bounds = [0, *changes.tolist(), len(labels)]
        runs_s += [t[b - 1] - t[a] for a, b in itertools.pairwise(bounds) if CLASSES[labels[a]] != "neutral"]
    print(f"hmm on talking clips: {sum(pairs.values())} switches; most common: {pairs.most_common(4)}; "
          f"non-neutral runs: {len(runs_s)}, median {np.median(runs_s):.2f} s")  # fmt: skip


def grid(clips: list[RealClip]) -> None:
    """Every setting of GRID in-sample: whether it passes the fit's guards, its accuracy, switches and onset lag."""
    calm = []
    for values in itertools.product(*GRID.values()):
        setting = HubSetting(*values)
        summary = summarise(pooled(clip_tallies(setting, clips)))
        row = (is_admissible(setting), summary[ALL_LABELLED]["accuracy"], summary[TALKING]["switches_per_min"],
               summary[ONSET_KIND]["onset_lag_p50_s"])  # fmt: skip
        print(f"  {setting}: guards {'pass' if row[0] else 'fail'}, {row[1]:.3f} at {row[2]:.1f} switches/min, "
              f"lag {row[3]:.2f} s", flush=True)  # fmt: skip
        calm.append(row)
    admissible = [row for row in calm if row[0]]
    print(f"grid: {len(calm)} settings, {len(admissible)} pass the guards, the calmest of them at "
          f"{min(row[2] for row in admissible):.1f} switches/min; at most {MAX_SWITCHES_PER_MIN:g}: "
          f"{[(round(row[1], 3), round(row[3], 2)) for row in calm if row[2] <= MAX_SWITCHES_PER_MIN]}")  # fmt: skip


def main() -> None:
    parser = CommandLineParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", action="store_true", help="also the wider HMM grid (about 2 minutes)")
    args = parser.parse_args()
    clips = load_real_clips()
    pattern = SETTINGS[TARGET_SETTING]
    runs = [Run(clip, keep) for clip in clips for keep in clip_arrivals(clip, pattern, DROP_SEEDS)]
    probes(runs)
    talking_switches(runs)
    if args.grid:
        grid(clips)


if __name__ == "__main__":
    main()
