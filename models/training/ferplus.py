"""FER+ crowd votes (ten annotators per FER2013 image, Microsoft FERPlus, MIT) in our 7 classes: FER2013's own labels
agree with the crowd on only about two thirds of PublicTest, so the votes are the better yardstick and target.

Mapping: FER+'s anger, disgust, fear, happiness, sadness, surprise and neutral are our 7 classes. Its `contempt`
(no class of ours) and `unknown` (the annotator could not tell) votes are left out, so an image's distribution is
over the votes cast for our classes. Left out as images: the 16 Training rows whose votes may belong to a near-twin
(`ambiguous`), those whose most-voted column is `NF` (not a face), and those with no vote for any of our classes.
The majority label is the class with strictly the most votes; a tie has none.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from models.roots import SHARED_DATA
from models.training.data import opened_npz
from smoothing.labels import CLASSES

DEFAULT_VOTES = SHARED_DATA / "ferplus_votes.npz"
FERPLUS_TO_OURS: dict[str, str] = {
    "anger": "angry",
    "disgust": "disgust",
    "fear": "fear",
    "happiness": "happy",
    "sadness": "sad",
    "surprise": "surprise",
    "neutral": "neutral",
}
NOT_A_FACE = "NF"
AMBIGUOUS = "ambiguous"
NO_MAJORITY = -1


def load_votes(path: str | Path, split: str, rows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(N, 7) vote counts in smoothing.labels.CLASSES order, rows aligned with fer2013.npz's split, and which rows
    are usable; with `rows`, votes for another number of faces are refused before any work is done with them."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"FER+ votes not found: {path}")
    with opened_npz(path) as data:
        key = f"votes_{split}"
        if key not in data:
            raise KeyError(f"split '{split}' not in {path.name}")
        named = data.get("columns")
        raw = data[key]
        match = data[f"match_{split}"] if f"match_{split}" in data else np.full(len(raw), "exact")
    if named is None:
        raise ValueError(f"{path.name} has no 'columns' array naming its vote columns")
    columns = [str(name) for name in named]
    shaped = raw.ndim == 2 and raw.shape[1] == len(columns) and len(match) == len(raw)
    if not shaped or not np.issubdtype(raw.dtype, np.number):
        raise ValueError(f"{path.name}:{split} must hold one row of {len(columns)} vote counts per face")
    if rows is not None and len(raw) != rows:
        raise ValueError(f"{path.name} has {len(raw)} {split} rows, the faces {rows}: not the votes of these faces")
    raw = raw.astype(np.int64)
    missing = [name for name in (*FERPLUS_TO_OURS, NOT_A_FACE) if name not in columns]
    if missing:
        raise ValueError(f"{path.name} has no column {', '.join(missing)}")
    votes = np.zeros((len(raw), len(CLASSES)), dtype=np.int64)
    for theirs, ours in FERPLUS_TO_OURS.items():
        votes[:, CLASSES.index(ours)] = raw[:, columns.index(theirs)]
    not_a_face = raw[:, columns.index(NOT_A_FACE)] >= raw.max(axis=1)
    usable = (match != AMBIGUOUS) & ~not_a_face & (votes.sum(axis=1) > 0)
    return votes, usable


def vote_distribution(votes: np.ndarray) -> np.ndarray:
    """Each usable row's votes as probabilities (soft training targets); rows without votes stay zero."""
    totals = votes.sum(axis=1, keepdims=True)
    return np.divide(votes, totals, out=np.zeros(votes.shape, dtype=np.float64), where=totals > 0)


def majority_labels(votes: np.ndarray) -> np.ndarray:
    """The class with strictly the most votes per row, NO_MAJORITY where the top is tied or no vote was cast."""
    top = votes.max(axis=1)
    labels = votes.argmax(axis=1)
    tied = (votes == top[:, None]).sum(axis=1) > 1
    labels[tied | (top == 0)] = NO_MAJORITY
    return labels
