"""Image conversions shared by the detector and the classifier, so both read frames the same way."""

from __future__ import annotations

import cv2
import numpy as np


def to_grey(frame: np.ndarray) -> np.ndarray:
    """Grey uint8 view of a grey, BGR or BGRA frame of any numeric dtype."""
    frame = np.asarray(frame)
    if frame.ndim == 3 and frame.shape[2] == 1:
        frame = frame[:, :, 0]
    if frame.dtype != np.uint8:
        frame = np.clip(frame, 0, 255).astype(np.uint8)
    if frame.ndim == 2:
        return frame
    if frame.ndim == 3 and frame.shape[2] == 3:
        return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    if frame.ndim == 3 and frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2GRAY)
    raise ValueError(f"frame has shape {frame.shape}; expected (H, W) grey, (H, W, 3) BGR or (H, W, 4) BGRA")
