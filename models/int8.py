"""EmoNet in int8, as the app loads it: 3-4x faster on a 2-core CPU than float32 for a fraction of a point of
accuracy, so that a frame of four faces fits the live budget. models/training/quantize.py makes the int8 weights.

Eager-mode post-training static quantization (torch.ao.quantization, pinned torch): BatchNorm folded into the convs,
each conv fused with its ReLU, weights per output channel. The per-image standardisation stays in float32 before the
first quantised layer: it is what makes faces of any brightness look alike, and its output range is then the same
for every face.
"""

from __future__ import annotations

import copy
import warnings

import torch
from torch import nn

from models.network import EmoNet, PerImageStandardize, fuse_batchnorm

ENGINE = "x86"  # fbgemm's successor: per-channel int8 kernels for x86 CPUs (AVX2 and later)
INT8_KEY = "int8"  # the checkpoint entry holding the int8 weights beside the float32 ones


def engine_available() -> bool:
    """Whether this CPU and torch build run the int8 kernels the shipped int8 weights were made for."""
    return ENGINE in torch.backends.quantized.supported_engines


class QuantizedEmoNet(nn.Module):
    """EmoNet with quantise/dequantise stubs around everything after the per-image standardisation."""

    def __init__(self, model: EmoNet) -> None:
        super().__init__()
        from torch.ao.quantization import DeQuantStub, QuantStub, fuse_modules

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


def prepared(model: EmoNet) -> QuantizedEmoNet:
    from torch.ao.quantization import get_default_qconfig, prepare

    torch.backends.quantized.engine = ENGINE
    network = QuantizedEmoNet(model)
    network.qconfig = get_default_qconfig(ENGINE)
    return prepare(network)


def converted(network: QuantizedEmoNet) -> nn.Module:
    from torch.ao.quantization import convert

    return convert(network)


def quantized_from_state(model: EmoNet, state: dict[str, torch.Tensor]) -> nn.Module:
    """Rebuilds the int8 network from saved int8 weights (model gives the architecture)."""
    with warnings.catch_warnings():  # also the observers' complaint that they saw no data: the state replaces them
        warnings.simplefilter("ignore")
        network = converted(prepared(model))
        network.load_state_dict(state)
    return network
