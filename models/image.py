"""Image conversions shared by the detector and the classifier, so both read frames the same way."""

from __future__ import annotations

import cv2
import numpy as np


def to_uint8(pixels: np.ndarray) -> np.ndarray:
    """Pixels of any numeric dtype as uint8 0-255. Floats in [0, 1] (scikit-image's, torchvision's and OpenCV's own
    convention for float images) are scaled to 0-255, 16-bit images (a 16-bit PNG read unchanged) keep their top 8
    bits: cast as they are, both would be all black or white. Other values are clipped to 0-255."""
    pixels = np.asarray(pixels)
    if pixels.dtype == np.uint8:
        return pixels
    if pixels.dtype == np.uint16:
        return (pixels >> 8).astype(np.uint8)
    if np.issubdtype(pixels.dtype, np.floating) and pixels.size and np.nanmax(pixels) <= 1.0:
        pixels = pixels * 255.0
    return np.clip(pixels, 0, 255).astype(np.uint8)


def _uint8_planes(frame: np.ndarray) -> np.ndarray:
    """The frame as uint8 (to_uint8), (H, W) for grey and (H, W, C) for colour; a bad shape is a one-line
    ValueError."""
    frame = np.asarray(frame)
    if frame.ndim == 3 and frame.shape[2] == 1:
        frame = frame[:, :, 0]
    frame = to_uint8(frame)
    if frame.ndim == 2 or (frame.ndim == 3 and frame.shape[2] in (3, 4)):
        return frame
    raise ValueError(f"frame has shape {frame.shape}; expected (H, W) grey, (H, W, 3) BGR or (H, W, 4) BGRA")


def to_grey(frame: np.ndarray) -> np.ndarray:
    """Grey uint8 view of a grey, BGR or BGRA frame of any numeric dtype."""
    frame = _uint8_planes(frame)
    if frame.ndim == 2:
        return frame
    return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY if frame.shape[2] == 3 else cv2.COLOR_BGRA2GRAY)


def to_bgr(frame: np.ndarray) -> np.ndarray:
    """BGR uint8 view of a grey, BGR or BGRA frame of any numeric dtype (YuNet reads 3 channels)."""
    frame = _uint8_planes(frame)
    if frame.ndim == 2:
        return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    return frame if frame.shape[2] == 3 else cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
