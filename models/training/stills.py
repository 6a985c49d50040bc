"""YuNet's landmarks on a small still face photo (a FER2013 face, an in-the-wild still): the still is upscaled and
given a replicated border first, because YuNet finds a face best at 100-300 px with some context around it."""

from __future__ import annotations

import cv2
import numpy as np

from models.face_detector import MODEL_FILE, NMS_IOU, Detection

STILL_SIDE = 192  # px the still is upscaled to: a 48 px FER2013 face 4x, a 96 px wild still 2x
BORDER = 64  # px of replicated border around the upscaled still: tight crops have no context
SCORE_THRESHOLD = 0.3  # lower than the app's: every still is a face, a weak hit still gives its landmarks


def still_detector() -> cv2.FaceDetectorYN:
    side = STILL_SIDE + 2 * BORDER
    return cv2.FaceDetectorYN.create(str(MODEL_FILE), "", (side, side), SCORE_THRESHOLD, NMS_IOU)


def still_detection(detector: cv2.FaceDetectorYN, grey: np.ndarray) -> Detection | None:
    """YuNet's strongest face on one grey still, in the still's own coordinates; None where none."""
    height, width = grey.shape
    scale = STILL_SIDE / max(height, width)
    big = cv2.resize(grey, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_LINEAR)
    big = cv2.copyMakeBorder(big, *(BORDER,) * 4, cv2.BORDER_REPLICATE)
    detector.setInputSize((big.shape[1], big.shape[0]))
    _, rows = detector.detect(cv2.cvtColor(big, cv2.COLOR_GRAY2BGR))
    if rows is None:
        return None
    row = rows[np.argmax(rows[:, 14])]
    x, y, w, h = ((row[:4] - (BORDER, BORDER, 0, 0)) / scale).tolist()
    points = (row[4:14].reshape(5, 2) - BORDER) / scale
    return Detection(round(x), round(y), round(w), round(h), float(row[14]), tuple(map(tuple, points)))
