"""Adds the int8 twin to a float EmoNet checkpoint (models/int8.py is how the app runs it): activation ranges
observed on FER2013 Training faces (what the network was trained on), and the temperature re-fitted on the int8
logits of the selection split.

Usage: python -m models.training.quantize [--weights models/weights/emonet.pt] [--data ../shared/data/fer2013.npz]
                                [--votes ../shared/data/ferplus_votes.npz]
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from app.errors import CommandLineParser
from models.classifier import DEFAULT_WEIGHTS, flip_averaged_logits, load_checkpoint, network_logits
from models.int8 import ENGINE, INT8_KEY, converted, engine_available, prepared
from models.network import EmoNet
from models.training.calibration import expected_calibration_error, fit_temperature, softmax
from models.training.corpus import mixed_targets
from models.training.data import DEFAULT_DATA, SELECT_SPLIT, TRAIN_SPLIT, load_split
from models.training.ferplus import DEFAULT_VOTES, load_votes
from models.training.script import run_script

CALIBRATION_FACES = 2000  # more moved no logit by more than the int8 rounding itself
CALIBRATION_BATCH = 200
CALIBRATION_SEED = 20261126


def quantize(model: EmoNet, calibration_faces: np.ndarray) -> nn.Module:
    """The int8 twin of a float EmoNet, its activation ranges observed on (N, 48, 48) uint8 faces and their mirrors."""
    with warnings.catch_warnings():  # torch flags eager-mode quantisation as deprecated; the pinned build has it
        warnings.simplefilter("ignore")
        network = prepared(model)
        with torch.inference_mode():
            for start in range(0, len(calibration_faces), CALIBRATION_BATCH):
                batch = torch.from_numpy(calibration_faces[start : start + CALIBRATION_BATCH]).unsqueeze(1)
                flip_averaged_logits(network, batch.float().div_(255))
        return converted(network)


# The crowd's share of the targets the float temperature was fitted to, by the recipe before --vote-weight (its
# `targets` setting; a checkpoint without one was trained on FER2013's labels, as the shipped weights are).
LEGACY_VOTE_WEIGHTS = {"labels": 0.0, "both": 0.5, "votes": 1.0}


def calibration_vote_weight(meta: dict) -> float:
    """The crowd's share of the targets the int8 temperature is fitted to: the one the float temperature had."""
    if "vote_weight" in meta:
        return float(meta["vote_weight"])
    return LEGACY_VOTE_WEIGHTS[meta.get("targets", "labels")]


def add_int8(path: Path, data: Path, votes: Path) -> dict:
    """Quantises the float checkpoint at path in place (its float32 weights stay), and reports both on PublicTest;
    the temperature is re-fitted to the label+crowd targets the float one was fitted to (models.training.train)."""
    checkpoint, model = load_checkpoint(path)
    train_faces, _ = load_split(data, TRAIN_SPLIT)
    select_faces, select_labels = load_split(data, SELECT_SPLIT)
    crowd, usable = load_votes(votes, SELECT_SPLIT, len(select_labels))
    rng = np.random.default_rng(CALIBRATION_SEED)
    calibration = train_faces[rng.choice(len(train_faces), CALIBRATION_FACES, replace=False)]
    network = quantize(model, calibration)
    float_logits = network_logits(model, select_faces)
    int8_logits = network_logits(network, select_faces)
    vote_weight = calibration_vote_weight(checkpoint.get("meta", {}))
    temperature = fit_temperature(int8_logits, mixed_targets(select_labels, crowd, usable, vote_weight))
    report = {
        "engine": ENGINE,
        "calibration_faces": CALIBRATION_FACES,
        "select_split": SELECT_SPLIT,
        "float32_accuracy": float((float_logits.argmax(1) == select_labels).mean()),
        "int8_accuracy": float((int8_logits.argmax(1) == select_labels).mean()),
        "label_agreement": float((float_logits.argmax(1) == int8_logits.argmax(1)).mean()),
        "max_logit_difference": float(np.abs(float_logits - int8_logits).max()),
        "temperature": temperature,
        "ece_after": expected_calibration_error(softmax(int8_logits, temperature), select_labels),
    }
    checkpoint[INT8_KEY] = {"engine": ENGINE, "state_dict": network.state_dict(), "temperature": temperature,
                            "meta": report}  # fmt: skip
    torch.save(checkpoint, path)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = CommandLineParser(prog="python -m models.training.quantize", description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS, help="float checkpoint, updated in place")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="npz with the training and publictest splits")
    parser.add_argument("--votes", type=Path, default=DEFAULT_VOTES, help="FER+ votes, half of the calibration targets")
    args = parser.parse_args(argv)
    if not engine_available():
        print(f"error: this torch build has no '{ENGINE}' int8 engine", file=sys.stderr)
        return 2

    def work() -> None:
        print(json.dumps(add_int8(args.weights, args.data, args.votes), indent=2))

    return run_script(work)


if __name__ == "__main__":
    sys.exit(main())
