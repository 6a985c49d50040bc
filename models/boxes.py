"""Box overlap, shared by the detector (duplicate faces) and the tracker (matching faces to tracks)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Box = tuple[float, float, float, float]  # x, y, w, h


def iou_matrix(a: Sequence[Box], b: Sequence[Box]) -> np.ndarray:
    """(len(a), len(b)) intersection over union of every pair of (x, y, w, h) boxes."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    first = np.asarray(a, dtype=np.float64)[:, None, :]
    second = np.asarray(b, dtype=np.float64)[None, :, :]
    width = np.minimum(first[..., 0] + first[..., 2], second[..., 0] + second[..., 2])
    width = np.clip(width - np.maximum(first[..., 0], second[..., 0]), 0, None)
    height = np.minimum(first[..., 1] + first[..., 3], second[..., 1] + second[..., 3])
    height = np.clip(height - np.maximum(first[..., 1], second[..., 1]), 0, None)
    inter = width * height
    union = first[..., 2] * first[..., 3] + second[..., 2] * second[..., 3] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two (x, y, w, h) boxes: iou_matrix's arithmetic on plain floats, since the detector
    asks it of single pairs about ten times a frame with 4 faces, where building arrays cost 25 us a pair."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    width = max(min(ax + aw, bx + bw) - max(ax, bx), 0)
    height = max(min(ay + ah, by + bh) - max(ay, by), 0)
    inter = width * height
    union = aw * ah + bw * bh - inter
    return float(inter / union) if union > 0 else 0.0
