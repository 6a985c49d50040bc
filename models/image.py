"""Image conversions shared by the detector and the classifier, so both read frames the same way."""

from __future__ import annotations

import cv2
import numpy as np


def _uint8_planes(frame: np.ndarray) -> np.ndarray:
    """The frame as uint8, (H, W) for grey and (H, W, C) for colour; a bad shape is a one-line ValueError."""
    frame = np.asarray(frame)
    if frame.ndim == 3 and frame.shape[2] == 1:
        frame = frame[:, :, 0]
    if frame.dtype != np.uint8:
        frame = np.clip(frame, 0, 255).astype(np.uint8)
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
