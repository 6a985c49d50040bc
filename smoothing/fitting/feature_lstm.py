"""The CNN-LSTM tried for issue 24: the LSTM smoother reading the classifier's face embedding (models.training.
embeddings) beside its 7 probabilities, so that it could learn what a talking mouth looks like over time. Scored
leave-one-source-out on the real clips against the same LSTM trained the same way without the embedding (projection
0, the control); it did not earn its place (README, Smoothers), so nothing of it ships.

Each fold starts from the shipped LSTM fitted without that source (smoothing/params/loso), with the embedding's
input columns at zero, so a net begins as that LSTM and uses the embedding only where training pays for it; the
embedding is standardised on the fold's own frames and projected to `projection` numbers. Time-aware gaps only (the
LSTM's default); the fine-tune's recipe otherwise (augmented clips, held-expression sequences with a zero embedding,
flicker weight, epoch choice without the noisy-stream check, which has no faces to embed).

Usage: python -m smoothing.fitting.feature_lstm [--projections 0 8 32] [--seeds 0 1]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from app.arguments import positive_int
from app.errors import CommandLineParser
from models.network import DEFAULT_WIDTHS
from models.training.embeddings import clip_embeddings
from models.training.script import run_script
from smoothing.base import NUM_CLASSES
from smoothing.fitting.loso import fold_params
from smoothing.fitting.real_score import ALL_LABELLED, TALKING, Tally, arrivals, pooled, summarise, tally_clip
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
from smoothing.fitting.recurrent_train import (
    HIDDEN_SIZE,
    MAX_TRAIN_DROP_RATE,
    VALIDATION_DROP_RATE,
    Batch,
    EpochScore,
    Stream,
    TorchSmoother,
    batch_loss,
    dropped_streams,
    fit_epochs,
    load_exported,
    padded_batch,
    stream_steps,
)
from smoothing.fitting.sequences import BURST_SHARE, STALL_SHARE
from smoothing.fitting.train import (
    FINE_TUNE_EPOCHS,
    FINE_TUNE_STABILITY_WEIGHT,
    SEED,
    TRAINING_THREADS,
    VALIDATION_SHARE,
)
from smoothing.smoothers.cells import INPUT_SIZE

EMBEDDING_SIZE: int = DEFAULT_WIDTHS[-1]
PROJECTIONS: tuple[int, ...] = (0, 8, 32)  # embedding numbers the cell reads; 0: the control, the LSTM alone
SCORED_DROP_RATE: float = 0.3  # the real benchmark's target setting (3 drop patterns per clip, its seeds)
SCORED_DROP_SEEDS: int = 3
STANDARDISE_EPS: float = 1e-3
NEUTRAL = NUM_CLASSES - 1  # shown before a face has been seen


@dataclass
class FeatureBatch(Batch):
    """recurrent_train.Batch of time-aware step programs (every step an arrived frame) with each step's (B, S, D)
    embedding beside its log-probabilities."""

    embedding: torch.Tensor


def feature_batch(streams: list[Stream]) -> tuple[FeatureBatch, list[np.ndarray]]:
    """(probs with the embedding appended, t, labels) streams as one time-aware batch, and each stream's step -> frame
    map."""
    programs, frames = [], []
    for stream in streams:
        steps, rows = stream_steps(*stream, "time-aware")
        programs.append(steps)
        frames.append(rows)
    batch = padded_batch(programs)
    embedding = torch.zeros(*batch.dt.shape, EMBEDDING_SIZE)
    for b, ((probs, _, _), rows) in enumerate(zip(streams, frames, strict=True)):
        faces = batch.face[b, : len(rows)].numpy()
        embedding[b, np.flatnonzero(faces)] = torch.from_numpy(probs[rows[faces], NUM_CLASSES:]).float()
    return FeatureBatch(**vars(batch), embedding=embedding), frames


class FeatureLSTM(TorchSmoother):
    """recurrent_train.TorchSmoother's LSTM with `projection` more inputs: a linear map of the face's embedding (zero
    without a face)."""

    def __init__(self, projection: int, hidden: int = HIDDEN_SIZE) -> None:
        super().__init__("lstm", hidden, input_size=INPUT_SIZE + projection)
        self.project = nn.Linear(EMBEDDING_SIZE, projection) if projection else None

    def step_input(self, batch: FeatureBatch, s: int, own: torch.Tensor) -> torch.Tensor:
        x = super().step_input(batch, s, own)
        if self.project is None:
            return x
        projected = torch.where(batch.face[:, s, None], self.project(batch.embedding[:, s]), 0.0)
        return torch.cat([x, projected], dim=1)

    def exported_parameters(self) -> dict[str, nn.Parameter]:
        """The LSTM's exported parameters and the projection's, so that the epoch loop keeps and restores both."""
        own = {} if self.project is None else {"project_weight": self.project.weight, "project_bias": self.project.bias}
        return super().exported_parameters() | own

    def start_from(self, weights: dict[str, np.ndarray]) -> None:
        """The shipped LSTM's exported weights, the embedding's input columns at zero: the net starts as that LSTM."""
        widened = self.export() | {name: weights[name] for name in super().exported_parameters()}
        widened["weight_ih"] = np.zeros(tuple(self.cell.weight_ih.shape), dtype=np.float32)
        widened["weight_ih"][:, :INPUT_SIZE] = weights["weight_ih"]
        load_exported(self, widened)


def with_embedding(clip: RealClip, embedding: np.ndarray) -> RealClip:
    """The clip with its (standardised) embedding appended to each frame's probabilities, so that the real-clip
    augmentations (smoothing.fitting.real_sequences) carry it along."""
    return replace(clip, probs=np.concatenate([clip.probs, embedding], axis=1))


def fit_fold(fitted: list[RealClip], source: str, projection: int, seed: int) -> tuple[FeatureLSTM, dict]:
    """The net fine-tuned on the clips of the other sources by the cells' own epoch loop (recurrent_train.fit_epochs),
    at the epoch EpochSelection keeps."""
    rng = np.random.default_rng(SEED + seed)
    order = np.random.default_rng(SEED).permutation(len(fitted))
    held = max(1, int(VALIDATION_SHARE * len(fitted)))
    validation = training_sequences([fitted[i] for i in order[:held]], rng)
    steady = steady_sequences(STEADY_SEQUENCES, rng)
    steady.probs = np.concatenate([steady.probs, np.zeros((len(steady.probs), EMBEDDING_SIZE), np.float32)], axis=1)
    train = concatenated(training_sequences([fitted[i] for i in order[held:]], rng), steady)
    fixed = np.arange(len(validation))
    validation_batch = feature_batch(
        dropped_streams(validation, fixed, [VALIDATION_DROP_RATE] * len(fixed), np.random.default_rng(SEED + 1))
    )[0]
    torch.manual_seed(SEED + seed)
    start = FeatureLSTM(projection)  # the projection's random start; the LSTM's weights are the shipped fold's
    start.start_from(dict(np.load(fold_params("lstm", source))))

    def loss(model: FeatureLSTM, indices: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
        streams = dropped_streams(train, indices, rng.uniform(0.0, MAX_TRAIN_DROP_RATE, len(indices)), rng)
        return batch_loss(model, feature_batch(streams)[0], FINE_TUNE_STABILITY_WEIGHT)[0]

    def validate(model: FeatureLSTM) -> EpochScore:
        with torch.no_grad():
            scores = batch_loss(model, validation_batch, FINE_TUNE_STABILITY_WEIGHT)[1]
        return EpochScore(scores["cross_entropy"], scores["switch_ratio"], f"CE {scores['cross_entropy']:.4f}")

    label = f"projection {projection}"
    weights, summary = fit_epochs(lambda: FeatureLSTM(projection), start.export(), len(train), FINE_TUNE_EPOCHS,
                                  SEED + seed, loss, validate, label, log=lambda _: None)  # fmt: skip
    model = FeatureLSTM(projection)
    load_exported(model, weights)
    return model.eval(), summary


def shown_labels(model: FeatureLSTM, probs: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The label shown at each arrived frame; a frame that takes no step (no face, no time) keeps the last one."""
    batch, (frames,) = feature_batch([(probs, t, np.zeros(len(t), dtype=np.int64))])
    with torch.no_grad():
        labels = model(batch)[0].argmax(dim=1).numpy()
    shown = np.full(len(t), -1)
    shown[frames] = labels
    for i in np.flatnonzero(shown < 0):
        shown[i] = shown[i - 1] if i else NEUTRAL
    return shown


def loso_tallies(clips: list[RealClip], embeddings: dict[str, np.ndarray], projection: int, seed: int, log=print):
    """Each source's clips scored at SCORED_DROP_RATE by the net fitted without that source."""
    tallies: list[tuple[RealClip, Tally]] = []
    for source in sorted({clip.source for clip in clips}):
        start = time.perf_counter()
        fitted = [clip for clip in clips if clip.source != source]
        frames = np.concatenate([embeddings[clip.name][clip.has_face] for clip in fitted])
        mean, std = frames.mean(axis=0), frames.std(axis=0) + STANDARDISE_EPS
        wide = {clip.name: with_embedding(clip, (embeddings[clip.name] - mean) / std) for clip in clips}
        model, summary = fit_fold([wide[clip.name] for clip in fitted], source, projection, seed)
        for clip in [clip for clip in clips if clip.source == source]:
            for keep in arrivals(clip, SCORED_DROP_RATE, STALL_SHARE, BURST_SHARE, SCORED_DROP_SEEDS):
                tallies.append(
                    (clip, tally_clip(clip, keep, shown_labels(model, wide[clip.name].probs[keep], clip.t[keep])))
                )
        log(f"projection {projection}, seed {seed}, without {source}: epoch {summary['epoch'] + 1} "
            f"({time.perf_counter() - start:.0f} s)")  # fmt: skip
    return tallies


def main() -> int:
    parser = CommandLineParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projections", type=positive_int, nargs="+", default=list(PROJECTIONS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--data", type=Path, default=DEFAULT_REAL_DIR)
    args = parser.parse_args()
    return run_script(lambda: compare(args))


def compare(args: argparse.Namespace) -> None:
    """Each projection and seed, leave-one-source-out, printed as it finishes."""
    torch.set_num_threads(TRAINING_THREADS)
    clips = labelled_clips(load_real_clips(args.data), args.data)
    embeddings = clip_embeddings([Path(args.data) / clip.name for clip in clips])
    for projection in args.projections:
        for seed in args.seeds:
            summary = summarise(pooled(loso_tallies(clips, embeddings, projection, seed)))
            kinds = "  ".join(f"{kind} {summary[kind]['accuracy']:.3f}" for kind in ("acted", "onset", "by-eye"))
            print(f"projection {projection}, seed {seed}: all labelled {summary[ALL_LABELLED]['accuracy']:.3f}  {kinds}"
                  f"  talking switches/min {summary[TALKING]['switches_per_min']:.1f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
