"""The training augmentation applied to a whole batch at once in torch: per-face transforms in worker processes cost
more than the network itself on a 2-core CPU (47 min for 30 epochs, of which the net's passes were 18).

Each face gets the changes a webcam face goes through: mirror, pose and framing (rotation, shift, zoom), lighting
(brightness, contrast, gamma), blur, sensor noise and occlusion.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

FLIP_P = 0.5
AFFINE_P = 0.8
MAX_ROTATION_DEG = 12.0  # heads tilt this much in a webcam frame; the aligner levels the eyes, not perfectly
MAX_SHIFT = 0.08  # share of the crop: where the landmarks put the face varies by this much
SCALE_RANGE = (0.9, 1.12)
LIGHT_P = 0.6
MAX_BRIGHTNESS = 0.35
MAX_CONTRAST = 0.35
MAX_LOG_GAMMA = 0.4  # gamma 0.67-1.5: under- and over-exposed webcams
BLUR_P = 0.2
BLUR_SIGMA = (0.1, 1.2)
BLUR_KERNEL = 5
NOISE_P = 0.2
MAX_NOISE = 0.04  # grey levels / 255: a dim webcam's sensor noise
ERASE_P = 0.25
ERASE_AREA = (0.02, 0.12)  # a hand, a microphone or hair across part of the face
ERASE_ASPECT = (0.3, 3.3)


def _uniform(n: int, low: float, high: float, generator: torch.Generator) -> torch.Tensor:
    return torch.rand(n, generator=generator) * (high - low) + low


def _chosen(n: int, p: float, generator: torch.Generator) -> torch.Tensor:
    return torch.rand(n, generator=generator) < p


def _affine(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    n = len(x)
    applied = _chosen(n, AFFINE_P, generator)
    angle = torch.deg2rad(_uniform(n, -MAX_ROTATION_DEG, MAX_ROTATION_DEG, generator)) * applied
    scale = torch.where(applied, _uniform(n, *SCALE_RANGE, generator), torch.ones(n))
    shift = (torch.rand(n, 2, generator=generator) * 2 - 1) * MAX_SHIFT * 2 * applied[:, None]
    flip = torch.where(_chosen(n, FLIP_P, generator), -1.0, 1.0)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [torch.stack([cos * flip, -sin, shift[:, 0]], 1), torch.stack([sin * flip, cos, shift[:, 1]], 1)], 1
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def _lighting(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    n = len(x)
    applied = _chosen(n, LIGHT_P, generator)[:, None, None, None]
    gamma = torch.exp(_uniform(n, -MAX_LOG_GAMMA, MAX_LOG_GAMMA, generator))[:, None, None, None]
    brightness = 1 + _uniform(n, -MAX_BRIGHTNESS, MAX_BRIGHTNESS, generator)[:, None, None, None]
    contrast = 1 + _uniform(n, -MAX_CONTRAST, MAX_CONTRAST, generator)[:, None, None, None]
    lit = x.clamp(min=1e-4) ** gamma * brightness
    mean = lit.mean(dim=(1, 2, 3), keepdim=True)
    lit = ((lit - mean) * contrast + mean).clamp(0, 1)
    return torch.where(applied, lit, x)


def _blur(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    n = len(x)
    applied = _chosen(n, BLUR_P, generator)
    if not applied.any():
        return x
    sigma = _uniform(n, *BLUR_SIGMA, generator)
    offsets = torch.arange(BLUR_KERNEL, dtype=torch.float32) - BLUR_KERNEL // 2
    kernel = torch.exp(-(offsets[None, :] ** 2) / (2 * sigma[:, None] ** 2))
    kernel = kernel / kernel.sum(dim=1, keepdim=True)  # (n, K): one separable Gaussian per face
    pad = BLUR_KERNEL // 2
    grouped = x.transpose(0, 1)  # (1, n, H, W): each face its own channel, blurred by its own kernel
    rows = F.conv2d(F.pad(grouped, (pad, pad, 0, 0), mode="replicate"), kernel[:, None, None, :], groups=n)
    both = F.conv2d(F.pad(rows, (0, 0, pad, pad), mode="replicate"), kernel[:, None, :, None], groups=n)
    return torch.where(applied[:, None, None, None], both.transpose(0, 1), x)


def _noise(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    n = len(x)
    level = _uniform(n, 0.0, MAX_NOISE, generator) * _chosen(n, NOISE_P, generator)
    return (x + torch.randn(x.shape, generator=generator) * level[:, None, None, None]).clamp(0, 1)


def _erase(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    n, _, height, width = x.shape
    applied = _chosen(n, ERASE_P, generator)
    area = _uniform(n, *ERASE_AREA, generator) * height * width
    aspect = torch.exp(_uniform(n, math.log(ERASE_ASPECT[0]), math.log(ERASE_ASPECT[1]), generator))
    h = (area * aspect).sqrt().clamp(1, height)
    w = (area / aspect).sqrt().clamp(1, width)
    top = torch.rand(n, generator=generator) * (height - h)
    left = torch.rand(n, generator=generator) * (width - w)
    rows = torch.arange(height)[None, :, None]
    cols = torch.arange(width)[None, None, :]
    inside = (
        (rows >= top[:, None, None])
        & (rows < (top + h)[:, None, None])
        & (cols >= left[:, None, None])
        & (cols < (left + w)[:, None, None])
        & applied[:, None, None]
    )
    fill = torch.rand(x.shape, generator=generator)
    return torch.where(inside[:, None], fill, x)


def augment(faces: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """(N, 1, H, W) float faces in [0, 1], each changed at random (seeded by `generator`)."""
    x = _affine(faces, generator)
    x = _lighting(x, generator)
    x = _blur(x, generator)
    x = _noise(x, generator)
    return _erase(x, generator)
