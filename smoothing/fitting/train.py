"""Fits the smoothers to real faces; writes smoothing/params/*.

The HMM is fitted on the real clips (smoothing.fitting.hmm_real_fit); the RNN and LSTM (online and offline) are
fine-tuned on augmented real clips from their synthetic pre-training (`--synthetic` redoes that pre-training on the
synthetic sequences). `--loso` also writes, for each source of real clips, the fits made without it
(smoothing.fitting.loso), which the real benchmark scores that source with.

Usage: python -m smoothing.fitting.train [--only hmm rnn lstm gru] [--epochs 20] [--online-only] [--loso] [--synthetic]
       [--data ../shared/data/real]
"""

from __future__ import annotations

import argparse
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np

from app.arguments import positive_int
from app.errors import CommandLineParser
from models.training.script import run_script
from smoothing.base import NOMINAL_FRAME_PERIOD_S
from smoothing.fitting.hmm_real_fit import best_setting, grid_tallies
from smoothing.fitting.loso import fold_params
from smoothing.fitting.real_score import ALL_LABELLED
from smoothing.fitting.real_sequences import (
    DEFAULT_REAL_DIR,
    STEADY_SEQUENCES,
    RealClip,
    concatenated,
    labelled_clips,
    load_real_clips,
    steady_sequences,
    training_sequences,
)
from smoothing.fitting.recurrent_train import HIDDEN_SIZE, train_bidirectional, train_recurrent
from smoothing.fitting.sequences import Sequences, load_or_build
from smoothing.smoothers.bidirectional import offline_params_path
from smoothing.smoothers.cells import CELL_KINDS
from smoothing.smoothers.hmm import DEFAULT_HMM_OFFLINE_PARAMS, DEFAULT_HMM_PARAMS, save_hmm_params
from smoothing.smoothers.recurrent import params_path

VALIDATION_SHARE: float = 0.1  # of the training sequences, held out to pick the recurrent models' best epoch
EPOCHS: int = 30  # synthetic pre-training
FINE_TUNE_EPOCHS: int = 20  # real clips: few sequences, so fewer passes before validation stops improving
SEED: int = 7
# The flicker penalty of the fine-tune on real clips (recurrent_train.STABILITY_WEIGHT is 3 for the synthetic
# pre-training): a real face's classifier errors last seconds, and at 3 the nets followed them on the talking clips.
# Online cells, leave-one-source-out at 30% drops, 3 -> 10: rnn 0.794 -> 0.791 accuracy, 24.8 -> 21.3 talking
# switches/min; lstm 0.796 -> 0.825, 23.3 -> 18.7 (float32 classifier). The offline rnn on all clips: 0.844 -> 0.948.
FINE_TUNE_STABILITY_WEIGHT: float = 10.0
TRAINING_THREADS: int = 1  # a step is a few tiny matmuls: a second thread only adds hand-off cost (100x under load)


def train_cells(sequences: Sequences, kinds: list[str], epochs: int, offline: bool = True) -> None:
    """Trains each online cell, then (offline=True) its bidirectional twin for smooth_offline."""
    import torch

    torch.set_num_threads(TRAINING_THREADS)
    order = np.random.default_rng(SEED).permutation(len(sequences))
    held_out = max(1, int(VALIDATION_SHARE * len(sequences)))
    validation, train = sequences.subset(order[:held_out]), sequences.subset(order[held_out:])
    jobs = [(kind, train_recurrent, synthetic_params_path(kind, False)) for kind in kinds]
    if offline:
        jobs += [(kind, train_bidirectional, synthetic_params_path(kind, True)) for kind in kinds]
    for kind, trainer, path in jobs:
        start = time.perf_counter()
        weights, summary = trainer(kind, train, validation, epochs, SEED)
        save_cell(path, kind, weights, summary, start)


def save_cell(path: Path, kind: str, weights: dict[str, np.ndarray], summary: dict, start: float, **meta) -> None:
    """A trained cell's weights with what load_cell and BidirectionalModel.load read beside them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        path,
        kind=np.array(kind),
        best_epoch=np.int64(summary["epoch"]),
        frame_period_s=np.float64(NOMINAL_FRAME_PERIOD_S),
        hidden=np.int64(HIDDEN_SIZE),
        **meta,
        **weights,
    )
    print(f"{path}: best epoch {summary['epoch'] + 1}, {summary} ({time.perf_counter() - start:.0f} s)")


def cell_params_path(kind: str, offline: bool) -> Path:
    """The shipped parameters of a cell, or of its offline twin."""
    return offline_params_path(kind) if offline else params_path(kind)


def synthetic_params_path(kind: str, offline: bool) -> Path:
    """Where the synthetic pre-training of a cell is kept: the start of every fine-tune on real clips."""
    shipped = cell_params_path(kind, offline)
    return shipped.with_name(f"{shipped.stem}-synthetic.npz")


def fit_hmm_real(clips: list[RealClip], loso: bool) -> None:
    """The HMM fitted on all clips, online and (for forward-backward) offline, and with --loso once without each
    source. The offline fit is held to the online fit's accuracy on the same clips: looking ahead must not cost
    accuracy for fewer switches."""
    from tqdm import tqdm

    start = time.perf_counter()
    sources = loso_folds(clips, loso)[1:]  # the held-out source of each fold
    online_accuracy: dict[str | None, float] = {}  # per fold: what forward-backward, which looks ahead, must match
    for offline in (False, True):
        tallies = grid_tallies(clips, partial(tqdm, desc=f"HMM grid, offline {offline}"), offline)
        folds = {None: DEFAULT_HMM_OFFLINE_PARAMS if offline else DEFAULT_HMM_PARAMS}
        folds |= {source: fold_params("hmm", source, offline) for source in sources}
        for source, path in folds.items():
            floor = online_accuracy[source] if offline else -np.inf
            setting, summary = best_setting(tallies, lambda clip, source=source: clip.source != source, floor)
            if not offline:
                online_accuracy[source] = summary[ALL_LABELLED]["accuracy"]
            save_hmm_params(path, setting.generator(), setting.class_prior(), setting.beta, setting.correlation_s,
                            fitted_without=str(source), offline=offline,
                            **{f"setting_{k}": np.float64(v) for k, v in vars(setting).items()})  # fmt: skip
            print(f"HMM (offline {offline}) without {source}: {setting}; fit: {summary.get('all labelled')} -> {path}")
    print(f"HMM fits: {time.perf_counter() - start:.0f} s")


def fine_tune_cells(
    clips: list[RealClip],
    kinds: list[str],
    epochs: int,
    offline: bool,
    folds: list[str | None],
    soup_seeds: tuple[int, ...] = (SEED,),
) -> None:
    """Fine-tunes each cell (and its offline twin) on augmented real clips, once per fold: None fits all clips, a
    source fits the clips of the other sources (loso_folds). With several soup_seeds the fine-tune is run once per
    trainer seed and the weight sets averaged (a seed soup).

    Validation (for the epoch choice) is a tenth of the clips of the sources being fitted, never the held-out one;
    held-expression sequences (real_sequences.steady_sequences) are mixed into training."""
    import torch

    torch.set_num_threads(TRAINING_THREADS)
    for source in folds:
        fitted = [clip for clip in clips if clip.source != source]
        order = np.random.default_rng(SEED).permutation(len(fitted))
        held = max(1, int(VALIDATION_SHARE * len(fitted)))
        rng = np.random.default_rng(SEED)
        validation = training_sequences([fitted[i] for i in order[:held]], rng)
        train = concatenated(training_sequences([fitted[i] for i in order[held:]], rng),
                             steady_sequences(STEADY_SEQUENCES, rng))  # fmt: skip
        jobs = [(kind, False) for kind in kinds] + ([(kind, True) for kind in kinds] if offline else [])
        for kind, is_offline in jobs:
            start = time.perf_counter()
            trainer = train_bidirectional if is_offline else train_recurrent
            init = dict(np.load(synthetic_params_path(kind, is_offline)))
            fits = [trainer(kind, train, validation, epochs, seed, log=lambda _: None, init=init,
                            stability=FINE_TUNE_STABILITY_WEIGHT) for seed in soup_seeds]  # fmt: skip
            weights = {name: np.mean([w[name] for w, _ in fits], axis=0).astype(np.float32) for name in fits[0][0]}
            summary = fits[0][1] if len(fits) == 1 else {"epoch": max(s["epoch"] for _, s in fits),
                                                         "soup_epochs": [s["epoch"] for _, s in fits]}  # fmt: skip
            path = cell_params_path(kind, is_offline) if source is None else fold_params(kind, source, is_offline)
            save_cell(path, kind, weights, summary, start, fitted_without=str(source))


def loso_folds(clips: list[RealClip], loso: bool) -> list[str | None]:
    """The fits to make: all clips (None), and with --loso once without each source."""
    return [None] + (sorted({clip.source for clip in clips}) if loso else [])


def pretrain_synthetic(kinds: list[str], epochs: int, offline: bool) -> None:
    """The synthetic pre-training of the cells (slow: builds the synthetic sequences first)."""
    sequences = load_or_build("training")
    train_cells(sequences, kinds, epochs, offline=offline)


def main() -> int:
    parser = CommandLineParser(description="Fit the HMM and fine-tune the RNN/LSTM on real clips")
    choices = ["hmm", *CELL_KINDS]
    parser.add_argument("--only", nargs="+", choices=choices, default=choices)
    parser.add_argument("--epochs", type=positive_int, default=FINE_TUNE_EPOCHS)
    parser.add_argument("--online-only", action="store_true", help="skip the bidirectional offline models")
    parser.add_argument("--loso", action="store_true", help="also fit once without each source (smoothing/params/loso)")
    parser.add_argument("--synthetic", action="store_true", help="redo the cells' synthetic pre-training")
    parser.add_argument("--data", type=Path, default=DEFAULT_REAL_DIR, help="real clips folder (labels.json layout)")
    parser.add_argument(
        "--soup-seeds", type=int, nargs="+", default=[SEED], help="fine-tune once per seed and average the weights"
    )
    args = parser.parse_args()
    return run_script(lambda: fit(args))


def fit(args: argparse.Namespace) -> None:
    """The fits the command line asked for; the real clips are read (and checked) before any of them."""
    kinds = [kind for kind in CELL_KINDS if kind in args.only]
    clips = labelled_clips(load_real_clips(args.data), args.data)
    if args.synthetic and kinds:
        pretrain_synthetic(kinds, EPOCHS, offline=not args.online_only)
    if "hmm" in args.only:
        fit_hmm_real(clips, args.loso)
    if kinds:
        fine_tune_cells(clips, kinds, args.epochs, offline=not args.online_only, folds=loso_folds(clips, args.loso),
                        soup_seeds=tuple(args.soup_seeds))  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
