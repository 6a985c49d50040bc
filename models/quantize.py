"""EmoNet in int8: 3-4x faster on a 2-core CPU than float32 for a fraction of a point of accuracy, so that a frame of
four faces fits the live budget. `python -m models.quantize` adds the int8 weights to a float checkpoint.

Eager-mode post-training static quantization (torch.ao.quantization, pinned torch): BatchNorm folded into the convs,
each conv fused with its ReLU, weights per output channel, activation ranges observed on FER2013 Training faces
(what the network was trained on), and the temperature re-fitted on the int8 logits of the selection split. The
per-image standardisation stays in float32 before the first quantised layer: it is what makes faces of any
brightness look alike, and its output range is then the same for every face.

Usage: python -m models.quantize [--weights models/weights/emonet.pt] [--data ../shared/data/fer2013.npz]
                                [--votes ../shared/data/ferplus_votes.npz]
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from models.network import EmoNet, PerImageStandardize

ENGINE = "x86"  # fbgemm's successor: per-channel int8 kernels for x86 CPUs (AVX2 and later)
CALIBRATION_FACES = 2000  # more moved no logit by more than the int8 rounding itself
CALIBRATION_BATCH = 200
CALIBRATION_SEED = 20261126
INT8_KEY = "int8"  # the checkpoint entry holding the int8 weights beside the float32 ones


def engine_available() -> bool:
    """Whether this CPU and torch build run the int8 kernels the shipped int8 weights were made for."""
    return ENGINE in torch.backends.quantized.supported_engines


class QuantizedEmoNet(nn.Module):
    """EmoNet with quantise/dequantise stubs around everything after the per-image standardisation."""

    def __init__(self, model: EmoNet) -> None:
        super().__init__()
        from torch.ao.quantization import DeQuantStub, QuantStub, fuse_modules

        from models.classifier import fuse_batchnorm

        fused = fuse_batchnorm(model)
        layers = list(fused.features)
        if not isinstance(layers[0], PerImageStandardize):
            raise ValueError("EmoNet is expected to start with PerImageStandardize")
        self.standardize = layers[0]
        self.quant = QuantStub()
        body = nn.Sequential(*copy.deepcopy(layers[1:]))
        pairs = [
            [str(i), str(i + 1)]
            for i in range(len(body) - 1)
            if isinstance(body[i], nn.Conv2d) and isinstance(body[i + 1], nn.ReLU)
        ]
        self.body = fuse_modules(body, pairs)
        pool, flatten, _dropout, linear = fused.head  # dropout is the identity at inference
        self.pool, self.flatten, self.linear = pool, flatten, copy.deepcopy(linear)
        self.dequant = DeQuantStub()
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Maps (N, 1, H, W) grey faces scaled to [0, 1] to (N, 7) float logits."""
        x = self.body(self.quant(self.standardize(x)))
        return self.dequant(self.linear(self.flatten(self.pool(x))))


def _prepared(model: EmoNet) -> QuantizedEmoNet:
    from torch.ao.quantization import get_default_qconfig, prepare

    torch.backends.quantized.engine = ENGINE
    network = QuantizedEmoNet(model)
    network.qconfig = get_default_qconfig(ENGINE)
    return prepare(network)


def _converted(network: QuantizedEmoNet) -> nn.Module:
    from torch.ao.quantization import convert

    return convert(network)


def quantize(model: EmoNet, calibration_faces: np.ndarray) -> nn.Module:
    """The int8 twin of a float EmoNet, its activation ranges observed on (N, 48, 48) uint8 faces and their mirrors."""
    from models.classifier import flip_averaged_logits

    with warnings.catch_warnings():  # torch flags eager-mode quantisation as deprecated; the pinned build has it
        warnings.simplefilter("ignore")
        network = _prepared(model)
        with torch.inference_mode():
            for start in range(0, len(calibration_faces), CALIBRATION_BATCH):
                batch = torch.from_numpy(calibration_faces[start : start + CALIBRATION_BATCH]).unsqueeze(1)
                flip_averaged_logits(network, batch.float().div_(255))
        return _converted(network)


def quantized_from_state(model: EmoNet, state: dict[str, torch.Tensor]) -> nn.Module:
    """Rebuilds the int8 network from saved int8 weights (model gives the architecture)."""
    with warnings.catch_warnings():  # also the observers' complaint that they saw no data: the state replaces them
        warnings.simplefilter("ignore")
        network = _converted(_prepared(model))
        network.load_state_dict(state)
    return network


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
    the temperature is re-fitted to the label+crowd targets the float one was fitted to (models.train)."""
    from models.calibration import expected_calibration_error, fit_temperature, softmax
    from models.classifier import load_checkpoint, network_logits
    from models.corpus import mixed_targets
    from models.data import SELECT_SPLIT, TRAIN_SPLIT, load_split
    from models.ferplus import load_votes

    checkpoint, model = load_checkpoint(path)
    train_faces, _ = load_split(data, TRAIN_SPLIT)
    select_faces, select_labels = load_split(data, SELECT_SPLIT)
    crowd, usable = load_votes(votes, SELECT_SPLIT)
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
    from models.classifier import DEFAULT_WEIGHTS, WeightsError
    from models.data import DEFAULT_DATA
    from models.ferplus import DEFAULT_VOTES

    parser = argparse.ArgumentParser(prog="python -m models.quantize", description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS, help="float checkpoint, updated in place")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="npz with the training and publictest splits")
    parser.add_argument("--votes", type=Path, default=DEFAULT_VOTES, help="FER+ votes, half of the calibration targets")
    args = parser.parse_args(argv)
    if not engine_available():
        print(f"error: this torch build has no '{ENGINE}' int8 engine", file=sys.stderr)
        return 2
    try:
        report = add_int8(args.weights, args.data, args.votes)
    except (WeightsError, FileNotFoundError, KeyError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
