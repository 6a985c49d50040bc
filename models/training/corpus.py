"""The classifier's training corpus: FER2013 Training in both framings (its own and the app's) with targets that mix
its label and the FER+ crowd's votes, and the training part of the in-the-wild stills (models.training.wild), drawn with
square-root class balancing.

Why these choices:
- Both framings: the app shows the net YuNet-aligned crops (models.align); FER2013's own crops teach it the faces.
- Targets: FER2013's one label per face is right about two thirds of the time by the crowd's reading; the crowd's
  votes alone pull the net toward neutral, which it then reads into talking faces that act an emotion. The mean of
  the two (VOTE_WEIGHT) keeps both readings; faces without usable votes keep their label.
- Square-root balancing: drawing each face with probability proportional to 1/sqrt(its class's count) halves the
  log-imbalance (disgust is 1% of the faces, neutral and happy 60% of the stills) without repeating the 760 disgust
  faces so often that the net learns them by heart.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.training.data import TRAIN_SPLIT, load_split
from models.training.fer_crops import cached_aligned_faces
from models.training.ferplus import load_votes, vote_distribution
from models.training.wild import load_wild
from smoothing.labels import NUM_CLASSES

VOTE_WEIGHT = 0.5  # share of the FER+ vote distribution in a FER2013 face's target; the rest is its label
BALANCE_POWER = 0.5  # draw weight = class count ** -BALANCE_POWER: 0 is no balancing, 1 is full balancing


@dataclass(frozen=True)
class Corpus:
    """(N, 48, 48) uint8 faces in their primary framing and an alternative one (the app's, or the same face where
    there is none), (N, 7) float32 targets, hard labels, the origin of each face and its draw weight."""

    faces: np.ndarray
    alternative: np.ndarray
    targets: np.ndarray
    labels: np.ndarray
    origin: np.ndarray
    weights: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


def mixed_targets(
    labels: np.ndarray, votes: np.ndarray, usable: np.ndarray, vote_weight: float = VOTE_WEIGHT
) -> np.ndarray:
    """(N, 7) targets: vote_weight of the crowd's vote distribution and the rest the one-hot label; faces without
    usable votes get their label alone."""
    one_hot = np.eye(NUM_CLASSES)[labels]
    mixed = (1 - vote_weight) * one_hot + vote_weight * vote_distribution(votes)
    return np.where(usable[:, None], mixed, one_hot).astype(np.float32)


def balanced_weights(labels: np.ndarray) -> np.ndarray:
    """Draw weights of square-root class balancing, summing to 1."""
    counts = np.bincount(labels, minlength=NUM_CLASSES).astype(np.float64)
    weights = np.maximum(counts, 1)[labels] ** -BALANCE_POWER
    return weights / weights.sum()


def build_corpus(
    data: str | Path, votes: str | Path, wild_dir: str | Path, vote_weight: float = VOTE_WEIGHT, stills: bool = True
) -> Corpus:
    """FER2013 Training (both framings, mixed targets) and, with `stills`, the wild stills' training part (one-hot
    targets); without them for a teacher: the two trained from scratch with them read the acted real clips at 0.52-0.55,
    v2 (FER2013 alone) at 0.67."""
    fer_faces, fer_labels = load_split(data, TRAIN_SPLIT)
    aligned, found = cached_aligned_faces(data, TRAIN_SPLIT, fer_faces)
    fer_votes, usable = load_votes(votes, TRAIN_SPLIT, len(fer_labels))
    wild = load_wild(wild_dir)
    train = wild.part(~wild.held_out & stills)
    labels = np.concatenate([fer_labels, train.labels])
    return Corpus(
        faces=np.concatenate([fer_faces, train.faces]),
        alternative=np.concatenate([np.where(found[:, None, None], aligned, fer_faces), train.faces]),
        targets=np.concatenate(
            [mixed_targets(fer_labels, fer_votes, usable, vote_weight), np.eye(NUM_CLASSES)[train.labels]]
        ).astype(np.float32),
        labels=labels,
        origin=np.concatenate([np.full(len(fer_labels), "fer2013"), train.sets]),
        weights=balanced_weights(labels),
    )
