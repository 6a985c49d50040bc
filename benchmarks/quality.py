"""Smoothing quality: every smoother, online and offline, on labelled evaluation sequences (PublicTest faces through
the shipped CNN) under four drop patterns, with two oracles that know the generator, and a label-free real-video check.

Scored frames are the frames that arrived with a face, as in `python -m smoothing.fitting.evaluate`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import smoothing
from benchmarks import changepoint_oracle, oracle, quality_plots, real_video
from benchmarks.changepoint_oracle import oracle_emission_law
from benchmarks.configs import CHANGEPOINT_ORACLE, MARKOV_ORACLE, ORACLES, SETTINGS, Config, DropPattern, configurations
from benchmarks.lag import Changes, change_lags, lag_summary, true_changes
from benchmarks.report import Report, markdown_table
from smoothing.fitting.changepoint import EmissionLaw
from smoothing.fitting.evaluate import DROP_SEED, WINDOWS, Arrived, score
from smoothing.fitting.sequences import Sequences, cache_path, drop_mask, load, load_or_build
from smoothing.registry import run_online
from smoothing.smoothers.cells import CELL_KINDS

CANDIDATES: tuple[str, ...] = ("hmm", *CELL_KINDS)  # ours; none, ema, the windows: baselines
MAX_POINTS_BELOW_ORACLE = 3.0  # target: the best online smoother's accuracy within 3 points of the best oracle
QUICK_SEQUENCES = 3  # quick mode (a smoke run of the report, not a measurement): this many sequences
QUICK_SYNTHETIC_S = 30.0  # quick mode without FER2013 or the cache: synthetic streams this long
QUICK_BUILD_SEED = 7  # quick mode with FER2013 but no cache: a few fresh sequences from PublicTest faces
POINTS = 100.0


@dataclass
class Case(Arrived):
    """One sequence as a smoother sees it, with the true changes from all its frames, dropped ones included."""

    changes: Changes = field(default_factory=lambda: Changes(np.empty(0), np.empty(0, int), np.empty(0)))


def make_cases(sequences: Sequences, pattern: DropPattern, seed: int = DROP_SEED) -> list[Case]:
    cases = []
    for i in range(len(sequences)):
        probs, t, labels, segment = sequences.sequence(i)
        rng = np.random.default_rng(seed + i)
        keep = drop_mask(t, pattern.rate, rng, pattern.stall_share, pattern.burst_share)
        changes = true_changes(labels, t)
        cases.append(Case(probs[keep], t[keep], labels[keep], segment[keep], float(t[-1] - t[0]), changes))
    return cases


def beliefs(config: Config, case: Case, law: EmissionLaw | None = None) -> np.ndarray:
    """(T, 7) beliefs at the arrived frames; the change-point oracle needs the evaluation data's emission law."""
    if config.name == MARKOV_ORACLE:
        return oracle.filter_sequence(case.probs, case.t)
    if config.name == CHANGEPOINT_ORACLE:
        if law is None:
            raise ValueError("the change-point oracle needs an emission law (fit_emission_law)")
        return changepoint_oracle.filter_sequence(case.probs, case.t, law)
    if config.offline:
        return smoothing.smooth_offline(config.name, case.probs, case.t, **config.options)
    return run_online(smoothing.create(config.name, **config.options), case.probs, case.t)


def evaluate_config(config: Config, cases: list[Case], law: EmissionLaw | None = None) -> dict[str, float]:
    """Accuracy, macro-F1, NLL, switches, lag and microseconds per arrived frame of one configuration."""
    start = time.perf_counter()
    all_beliefs = [beliefs(config, case, law) for case in cases]
    seconds = time.perf_counter() - start
    lags, missed = [], 0
    for belief, case in zip(all_beliefs, cases, strict=True):
        case_lags, case_missed = change_lags(case.changes, case.t, belief.argmax(axis=1), case.has_face)
        lags.append(case_lags)
        missed += case_missed
    frames = sum(len(case.t) for case in cases)
    return (
        score(all_beliefs, cases)
        | lag_summary(np.concatenate(lags), missed)
        | {"us_per_frame": 1e6 * seconds / max(frames, 1)}
    )


def best_oracle(table: dict[str, dict[str, float]]) -> str | None:
    """The more accurate oracle in a table: the tighter bound on what a causal smoother could reach."""
    present = [label for label in ORACLES if label in table]
    return max(present, key=lambda label: table[label]["accuracy"]) if present else None


def evaluate_setting(
    cases: list[Case], configs: list[Config], law: EmissionLaw | None = None
) -> dict[str, dict[str, float]]:
    results = {config.label: evaluate_config(config, cases, law) for config in configs}
    bound = best_oracle(results)
    if bound is not None:
        for row in results.values():
            row["points_below_oracle"] = POINTS * (results[bound]["accuracy"] - row["accuracy"])
    return results


def check_targets(results: dict[str, dict[str, dict[str, float]]], configs: list[Config]) -> list[dict[str, Any]]:
    """Per setting: does our most accurate online smoother beat the most accurate window baseline at no more median
    lag, and come within MAX_POINTS_BELOW_ORACLE of the better oracle?"""
    ours = [c.label for c in configs if c.name in CANDIDATES and not c.offline]
    windows = [c.label for c in configs if c.name in WINDOWS]
    rows = []
    for setting, table in results.items():
        best = max(ours, key=lambda label: table[label]["accuracy"])
        window = max(windows, key=lambda label: table[label]["accuracy"])
        # Among ours, the most accurate one that is no slower than the best window (the target's trade-off).
        fast_enough = [label for label in ours if table[label]["median_lag_s"] <= table[window]["median_lag_s"]]
        fast_best = max(fast_enough, key=lambda label: table[label]["accuracy"]) if fast_enough else None
        b, w = table[best], table[window]
        bound = best_oracle(table)
        rows.append(
            {
                "setting": setting,
                "best_online": best,
                "best_online_accuracy": b["accuracy"],
                "best_online_median_lag_s": b["median_lag_s"],
                "best_window": window,
                "best_window_accuracy": w["accuracy"],
                "best_window_median_lag_s": w["median_lag_s"],
                "beats_window_at_no_more_lag": b["accuracy"] > w["accuracy"] and b["median_lag_s"] <= w["median_lag_s"],
                "best_no_slower_than_window": fast_best,
                "best_no_slower_accuracy": table[fast_best]["accuracy"] if fast_best else float("nan"),
                "oracle": bound,
                "oracle_accuracy": table[bound]["accuracy"] if bound else float("nan"),
                "points_below_oracle": b.get("points_below_oracle", float("nan")),
                "within_oracle": b.get("points_below_oracle", float("inf")) <= MAX_POINTS_BELOW_ORACLE,
            }
        )
    return rows


def load_sequences(quick: bool) -> tuple[Sequences, str]:
    """The evaluation sequences and where they came from; quick mode takes a few, building them only if it must."""
    from models.training.data import DEFAULT_DATA

    path = cache_path("publictest")
    if not quick:
        if not path.is_file() and not Path(DEFAULT_DATA).is_file():
            raise FileNotFoundError(
                f"needs the evaluation sequences {path} or FER2013 at {DEFAULT_DATA} to build them "
                "(`--quick` runs on synthetic streams without either)"
            )
        sequences = load_or_build("publictest")
        return sequences, f"{len(sequences)} PublicTest sequences ({path.name})"
    if path.is_file():
        sequences = load(path)
        picked = np.linspace(0, len(sequences) - 1, QUICK_SEQUENCES).round().astype(int)
        return sequences.subset(picked), f"{QUICK_SEQUENCES} of the cached PublicTest sequences ({path.name})"
    if Path(DEFAULT_DATA).is_file():
        import models
        from models.training.data import load_split
        from smoothing.fitting.sequences import build_sequences

        faces, labels = load_split(DEFAULT_DATA, "publictest")
        classifier = models.load_classifier()
        sequences = build_sequences(faces, labels, QUICK_SEQUENCES // 2, classifier.predict, QUICK_BUILD_SEED)
        return sequences, f"{len(sequences)} PublicTest sequences built now (no cache)"
    from smoothing.fitting.synthetic import synthetic_sequences

    sequences = synthetic_sequences(QUICK_SEQUENCES, QUICK_SYNTHETIC_S, QUICK_BUILD_SEED)
    return sequences, f"{len(sequences)} synthetic streams (no FER2013 at {DEFAULT_DATA}): a smoke test only"


def fmt(value: float, spec: str) -> str:
    return "-" if value is None or not np.isfinite(value) else format(value, spec)


def setting_table(table: dict[str, dict[str, float]]) -> str:
    columns = [
        "smoother", "accuracy", "macro-F1", "NLL", "switches/min (truth)", "median lag s", "p90 lag s",
        "never followed", "points below oracle", "us/frame",
    ]  # fmt: skip
    rows = [
        [
            label,
            fmt(r["accuracy"], ".3f"),
            fmt(r["macro_f1"], ".3f"),
            fmt(r["nll"], ".3f"),
            f"{fmt(r['switches_per_min'], '.1f')} ({fmt(r['truth_switches_per_min'], '.1f')})",
            fmt(r["median_lag_s"], ".2f"),
            fmt(r["p90_lag_s"], ".2f"),
            f"{fmt(POINTS * r['missed_changes'], '.0f')}%",
            fmt(r.get("points_below_oracle", float("nan")), ".1f"),
            fmt(r["us_per_frame"], ".0f"),
        ]
        for label, r in table.items()
    ]
    return markdown_table(columns, rows)


def targets_table(rows: list[dict[str, Any]]) -> str:
    columns = [
        "setting", "best online (ours)", "its accuracy / median lag", "best window", "its accuracy / median lag",
        "beats window at <= lag", "most accurate of ours at <= window lag", "better oracle", "points below it",
        "within 3 points",
    ]  # fmt: skip
    yes = {True: "yes", False: "MISS"}
    return markdown_table(
        columns,
        [
            [
                r["setting"],
                r["best_online"],
                f"{r['best_online_accuracy']:.3f} / {fmt(r['best_online_median_lag_s'], '.2f')} s",
                r["best_window"],
                f"{r['best_window_accuracy']:.3f} / {fmt(r['best_window_median_lag_s'], '.2f')} s",
                yes[r["beats_window_at_no_more_lag"]],
                f"{r['best_no_slower_than_window']} ({fmt(r['best_no_slower_accuracy'], '.3f')})"
                if r["best_no_slower_than_window"]
                else "none",
                f"{r['oracle']} ({fmt(r['oracle_accuracy'], '.3f')})" if r["oracle"] else "-",
                fmt(r["points_below_oracle"], ".1f"),
                yes[r["within_oracle"]],
            ]
            for r in rows
        ],
    )


def run(quick: bool) -> Report:
    sequences, source = load_sequences(quick)
    configs = configurations()
    law = oracle_emission_law(sequences)  # from all frames, before any drop: the oracle knows the data
    results: dict[str, dict[str, dict[str, float]]] = {}
    scored = {}
    for setting, pattern in SETTINGS.items():
        cases = make_cases(sequences, pattern)
        scored[setting] = sum(int(case.has_face.sum()) for case in cases)
        results[setting] = evaluate_setting(cases, configs, law)
    targets = check_targets(results, configs)
    video = real_video.run(quick)
    minutes = float(sum(sequences.t[sequences.offsets[i + 1] - 1] for i in range(len(sequences)))) / 60.0
    data = {
        "source": source,
        "sequences": len(sequences),
        "minutes": minutes,
        "drop_seed": DROP_SEED,
        "markov_oracle_beta": oracle.ORACLE_BETA,
        "changepoint_oracle_information_share": law.information_share,
        "settings": {name: vars(pattern) for name, pattern in SETTINGS.items()},
        "scored_frames": scored,
        "results": results,
        "targets": targets,
        "real_video": video,
    }
    parts = [
        f"Source: {source}, {minutes:.1f} min. Scored: arrived frames with a face. Drops: seed {DROP_SEED}. "
        "Points below oracle: against the more accurate of the two oracles in that setting.",
        "",
        "### Targets",
        "",
        targets_table(targets),
    ]
    for setting, table in results.items():
        parts += ["", f"### {setting} ({scored[setting]} scored frames)", "", setting_table(table)]
    parts += ["", "### Real video (no labels)", "", real_video.markdown(video)]
    figures = {
        "accuracy-vs-lag": quality_plots.accuracy_vs_lag(results),
        "accuracy-vs-drop-rate": quality_plots.accuracy_vs_drop_rate(results, SETTINGS),
    }
    return Report("quality", data, "\n".join(parts), figures)
