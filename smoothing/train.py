"""Fits the HMM and the change-point smoother and trains the RNN and LSTM (online and offline) on the training
sequences; writes smoothing/params/*.

Usage: python -m smoothing.train [--only hmm changepoint rnn lstm] [--epochs 30] [--online-only]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from smoothing.base import NOMINAL_FRAME_PERIOD_S, NUM_CLASSES
from smoothing.bidirectional import offline_params_path
from smoothing.changepoint import DEFAULT_CHANGEPOINT_PARAMS, save_changepoint_params
from smoothing.changepoint_fit import SHARE_GRID, fit_changepoint
from smoothing.hmm import DEFAULT_HMM_PARAMS, save_hmm_params
from smoothing.hmm_fit import BETA_GRID, RATE_SCALE_GRID, estimate_generator, fit_emission
from smoothing.recurrent import params_path
from smoothing.sequences import Sequences, drop_mask, load_or_build

VALIDATION_SHARE: float = 0.1  # of the training sequences, held out to pick the recurrent models' best epoch
HMM_FIT_SEQUENCES: int = 120  # beta and the rate scale are two numbers; a subset of sequences pins them down
MAX_FIT_DROP_RATE: float = 0.5
EPOCHS: int = 30
SEED: int = 7
TRAINING_THREADS: int = 1  # a step is a few tiny matmuls: a second thread only adds hand-off cost (100x under load)


def classifier_class_prior() -> np.ndarray:
    """P(s) the classifier learned under: FER2013 Training class frequencies (temperature scaling keeps them)."""
    from models.data import DEFAULT_DATA, TRAIN_SPLIT, load_split

    _, labels = load_split(DEFAULT_DATA, TRAIN_SPLIT)
    counts = np.bincount(labels, minlength=NUM_CLASSES).astype(np.float64)
    return counts / counts.sum()


def fit_hmm(sequences: Sequences) -> None:
    start = time.perf_counter()
    generator = estimate_generator((sequences.sequence(i)[2], sequences.sequence(i)[1]) for i in range(len(sequences)))
    class_prior = classifier_class_prior()
    rng = np.random.default_rng(SEED)
    fit_set = []
    for i in rng.choice(len(sequences), size=min(HMM_FIT_SEQUENCES, len(sequences)), replace=False):
        probs, t, labels, _ = sequences.sequence(int(i))
        keep = drop_mask(t, rng.uniform(0.0, MAX_FIT_DROP_RATE), rng)
        fit_set.append((probs[keep], t[keep], labels[keep]))
    beta, rate_scale, tables = fit_emission(fit_set, generator, class_prior)
    save_hmm_params(
        DEFAULT_HMM_PARAMS,
        rate_scale * generator,
        class_prior,
        beta,
        mle_generator=generator,
        rate_scale=np.float64(rate_scale),
        **{f"fit_{name}": table for name, table in tables.items()},
    )
    np.set_printoptions(precision=3, suppress=True, linewidth=120)
    print(f"HMM: beta {beta}, rate scale {rate_scale} ({time.perf_counter() - start:.0f} s)")
    for name, table in tables.items():
        print(f"{name} (rows: rate scales {RATE_SCALE_GRID}; columns: beta {BETA_GRID})")
        print(table)
    print("generator (1/s):")
    print(rate_scale * generator)
    print(f"wrote {DEFAULT_HMM_PARAMS}")


def train_cells(sequences: Sequences, kinds: list[str], epochs: int, offline: bool = True) -> None:
    """Trains each online cell, then (offline=True) its bidirectional twin for smooth_offline."""
    import torch

    from smoothing.recurrent_train import HIDDEN_SIZE, train_bidirectional, train_recurrent

    torch.set_num_threads(TRAINING_THREADS)
    order = np.random.default_rng(SEED).permutation(len(sequences))
    held_out = max(1, int(VALIDATION_SHARE * len(sequences)))
    validation, train = sequences.subset(order[:held_out]), sequences.subset(order[held_out:])
    jobs = [(kind, train_recurrent, params_path(kind)) for kind in kinds]
    if offline:
        jobs += [(kind, train_bidirectional, offline_params_path(kind)) for kind in kinds]
    for kind, trainer, path in jobs:
        start = time.perf_counter()
        weights, summary = trainer(kind, train, validation, epochs, SEED)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {"frame_period_s": np.float64(NOMINAL_FRAME_PERIOD_S), "hidden": np.int64(HIDDEN_SIZE)}
        np.savez(path, kind=np.array(kind), best_epoch=np.int64(summary["epoch"]), **meta, **weights)
        print(f"{path.name}: best epoch {summary['epoch'] + 1}, {summary} ({time.perf_counter() - start:.0f} s)")


def fit_changepoint_smoother(sequences: Sequences) -> None:
    start = time.perf_counter()
    emission, segments, table = fit_changepoint(sequences)
    save_changepoint_params(
        DEFAULT_CHANGEPOINT_PARAMS,
        emission,
        segments,
        share_grid=np.array(SHARE_GRID),
        share_log_score=np.array([table[share][0] for share in SHARE_GRID]),
        share_accuracy=np.array([table[share][1] for share in SHARE_GRID]),
    )
    print(f"change-point: information share {emission.information_share} ({time.perf_counter() - start:.0f} s)")
    for share, (score, accuracy) in table.items():
        print(f"  share {share}: mean log-score {score:.4f}, accuracy {accuracy:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description="Fit the HMM and the change-point smoother, train the RNN/LSTM")
    choices = ["hmm", "changepoint", "rnn", "lstm"]
    parser.add_argument("--only", nargs="+", choices=choices, default=choices)
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--online-only", action="store_true", help="skip the bidirectional offline models")
    args = parser.parse_args()
    sequences = load_or_build("training")
    if "hmm" in args.only:
        fit_hmm(sequences)
    if "changepoint" in args.only:
        fit_changepoint_smoother(sequences)
    kinds = [kind for kind in ("rnn", "lstm") if kind in args.only]
    if kinds:
        train_cells(sequences, kinds, args.epochs, offline=not args.online_only)


if __name__ == "__main__":
    main()
