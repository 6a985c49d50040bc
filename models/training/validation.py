"""What a candidate classifier is checked on, after every epoch and before it ships: PublicTest in both framings and
both label sets, the held-out in-the-wild stills per set, and the real development clips' raw labels. Training
never sees any of them; the real clips are the judge, the rest second opinions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.training.data import SELECT_SPLIT, load_split
from models.training.fer_crops import cached_aligned_faces
from models.training.ferplus import NO_MAJORITY, load_votes, majority_labels
from models.training.real_crops import RealCrops, clip_logits, load_real_crops, raw_accuracy
from models.training.wild import SETS, WildFaces, load_wild
from smoothing.fitting.real_sequences import LABELS_FILE

LogitsOf = Callable[[np.ndarray], np.ndarray]  # (N, 48, 48) uint8 faces -> (N, 7) logits
BATCH = 512


@dataclass(frozen=True)
class ValidationSets:
    """PublicTest (own and app framing, label and crowd majority), held-out wild stills, real labelled clips (none
    where the folder is absent)."""

    publictest: np.ndarray
    publictest_aligned: np.ndarray
    labels: np.ndarray
    majority: np.ndarray
    wild: WildFaces
    real: list[RealCrops]


def load_validation(data: str | Path, votes: str | Path, wild_dir: str | Path, real_dir: str | Path) -> ValidationSets:
    faces, labels = load_split(data, SELECT_SPLIT)
    crowd, usable = load_votes(votes, SELECT_SPLIT, len(labels))
    majority = np.where(usable, majority_labels(crowd), NO_MAJORITY)
    wild = load_wild(wild_dir)
    return ValidationSets(
        faces,
        cached_aligned_faces(data, SELECT_SPLIT, faces)[0],
        labels,
        majority,
        wild.part(wild.held_out),
        load_real_crops(Path(real_dir)) if (Path(real_dir) / LABELS_FILE).is_file() else [],
    )


def batched(logits_of: LogitsOf, faces: np.ndarray) -> np.ndarray:
    return np.concatenate([logits_of(faces[i : i + BATCH]) for i in range(0, len(faces), BATCH)])


def accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    counted = labels != NO_MAJORITY
    return float((logits.argmax(axis=1) == labels)[counted].mean()) if counted.any() else float("nan")


def validate(logits_of: LogitsOf, sets: ValidationSets) -> dict:
    """Accuracy on every validation set, and the raw logits of the real clips (for fitting a prior later)."""
    own = batched(logits_of, sets.publictest)
    wild = batched(logits_of, sets.wild.faces)
    real = clip_logits(logits_of, sets.real)
    wild_set = sets.wild.sets
    report = {
        "publictest": accuracy(own, sets.labels),
        "publictest_ferplus": accuracy(own, sets.majority),
        "publictest_app_framing": accuracy(batched(logits_of, sets.publictest_aligned), sets.labels),
    }
    report |= {f"wild {name}": accuracy(wild[wild_set == name], sets.wild.labels[wild_set == name]) for name in SETS}
    if sets.real:  # a machine without the real clips still trains; the real figures are then missing, not zero
        report |= {f"real {key}": value for key, value in raw_accuracy(sets.real, real).items() if key != "frames"}
    return {"report": report, "publictest_logits": own, "real_logits": real}
