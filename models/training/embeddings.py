"""The classifier's face embedding (the pooled features its last layer reads) for every frame of the real clips,
cached: what a CNN-LSTM smoother reads beside the 7 probabilities (smoothing.fitting.feature_lstm), to learn what a
talking mouth looks like over time.

The float network computes them (the int8 twin's features agree with its own to rounding only); frames are cut as
the app cuts them (models.training.real_crops.clip_crops), so they line up with the cached real-clip streams.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from torch import nn

from models import align, classifier, face_detector, network
from models.classifier import DEFAULT_WEIGHTS, load_checkpoint, network_logits
from models.face_detector import MODEL_FILE
from models.network import EmoNet
from models.roots import CACHE_ROOT, cache_key
from models.training import real_crops
from models.training.data import save_npz_atomically
from models.training.real_crops import clip_crops

CACHE_DIR = CACHE_ROOT / "real_embeddings"


def embedding_network(model: EmoNet) -> nn.Module:
    """EmoNet up to its head's linear layer: (N, 1, 48, 48) faces to (N, widths[-1]) pooled features."""
    pool, flatten = model.head[0], model.head[1]
    return nn.Sequential(model.features, pool, flatten).eval()


def clip_embeddings(paths: list[Path], weights: Path = DEFAULT_WEIGHTS, progress=None) -> dict[str, np.ndarray]:
    """Per clip file name: (T, D) embeddings of the biggest face per frame (zeros where none was found), cached under
    CACHE_DIR by the clip's bytes, the weights and the code that cuts and embeds the faces."""
    embed = embedding_network(load_checkpoint(weights)[1])
    modules = (face_detector, align, classifier, network, real_crops, sys.modules[__name__])
    out = {}
    for path in progress(paths) if progress else paths:
        cached = CACHE_DIR / f"{path.stem}-{cache_key(modules, (MODEL_FILE, weights, path))}.npz"
        if cached.is_file():
            with np.load(cached) as stored:
                out[path.name] = stored["embeddings"]
            continue
        crops, found, _ = clip_crops(path)
        embeddings = network_logits(embed, crops)  # flip-averaged, as the classifier's logits
        embeddings[~found] = 0.0
        save_npz_atomically(cached, embeddings=embeddings)
        out[path.name] = embeddings
    return out
