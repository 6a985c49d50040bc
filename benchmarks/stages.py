"""Times each stage of the live app's per-frame work on a video file, running what app.live.session.LiveSession.step
runs: decode, then the app's Pipeline.process (which times its own detect, preprocess, classify and smooth), then the
live view (app.live.view) drawn at a 1280x720 window's size."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from app.engine.pipeline import PIPELINE_STAGES, Pipeline
from app.live.view import LiveView, Status
from benchmarks.timing import summarize_ms
from models.classifier import EmotionClassifier

STAGES = ("decode", *PIPELINE_STAGES, "overlay")
END_TO_END = "end_to_end"
MS_PER_S = 1000.0
# What the status line shows; its text is drawn whatever the figures, so any plausible values cost the same.
STATUS_CAMERA_FPS = 30.0
STATUS_LATENCY_MS = 20.0
VIEW_SIZE = (1280, 720)  # the window the view is drawn for: a laptop screen's worth, as issue 14's 2 ms target says


@dataclass
class ClipTiming:
    """Nanoseconds per measured frame for each stage and end to end, and the faces found in each of those frames."""

    spans_ns: dict[str, list[int]] = field(default_factory=lambda: {name: [] for name in (*STAGES, END_TO_END)})
    faces: list[int] = field(default_factory=list)
    full_search: list[bool] = field(default_factory=list)  # whether the detector searched the whole frame
    stream_start: list[bool] = field(default_factory=list)  # whether the frame was its stream's first

    def summary(self) -> dict[str, Any]:
        """Per stage p50/p95/p99 (ms) and fps; the faces found per frame; detection split into full and region
        searches, whose costs differ several-fold; and a stream's first frame apart (one-off costs: a new track's
        smoother, a full search, the file's first decode), since each pass starts one."""
        full = np.array(self.full_search, dtype=bool)
        first = np.array(self.stream_start, dtype=bool)
        detect = np.array(self.spans_ns["detect"], dtype=np.int64)
        end_to_end = np.array(self.spans_ns[END_TO_END], dtype=np.int64)
        return {
            "frames_measured": len(self.faces),
            "mean_faces_found": float(np.mean(self.faces)) if self.faces else 0.0,
            "full_search_share": float(full.mean()) if full.size else 0.0,
            "detect_full_search": summarize_ms(detect[full]),
            "detect_region_search": summarize_ms(detect[~full]),
            "stream_first_frame": summarize_ms(end_to_end[first]),
            "stages": {name: summarize_ms(spans) for name, spans in self.spans_ns.items()},
        }


class FrameStages:
    """The app's per-frame components for one stream: its pipeline, a tracker with one smoother per face, a history."""

    def __init__(self, classifier: EmotionClassifier, smoother: str) -> None:
        self.pipeline = Pipeline(classifier, smoother)
        self.detector = self.pipeline.detector
        self.smoother = smoother
        self.reset()

    def reset(self) -> None:
        """A new stream: fresh detector state, tracks, smoothers and history."""
        self.pipeline.reset()
        self.view = LiveView()
        self.status = Status(
            STATUS_CAMERA_FPS, STATUS_CAMERA_FPS, STATUS_CAMERA_FPS, STATUS_LATENCY_MS, 0.0, self.smoother
        )  # camera, shown and analysed at one rate

    def run_frame(self, capture: cv2.VideoCapture, index: int) -> tuple[dict[str, int], int] | None:
        """Reads and processes one frame; each stage's span and the end-to-end span (ns) and the faces found, None
        at the end."""
        start = time.perf_counter_ns()
        ok, frame = capture.read()  # decode: the calls app.engine.sources.VideoFileSource makes per frame
        if not ok or frame is None:
            return None
        t = capture.get(cv2.CAP_PROP_POS_MSEC) / MS_PER_S
        decoded = time.perf_counter_ns()
        result = self.pipeline.process(index, t, frame)
        processed = time.perf_counter_ns()
        self.view.add(result, t)
        self.view.render(frame, result, t, self.status, VIEW_SIZE)
        drawn = time.perf_counter_ns()
        # the call's own overhead (entering it, building the result) is counted in its last stage, smooth
        spans = {"decode": decoded - start, **result.spans_ns, "overlay": drawn - processed, END_TO_END: drawn - start}
        spans["smooth"] = processed - decoded - sum(result.spans_ns[stage] for stage in PIPELINE_STAGES[:-1])
        return spans, len(result.faces)


def time_pass(stages: FrameStages, path: Path, timing: ClipTiming | None, max_frames: int | None = None) -> None:
    """One pass over the clip as a fresh stream, every frame's spans added to `timing` (None: a warm-up, not kept)."""
    stages.reset()
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise FileNotFoundError(f"cannot open {path}")
    index = 0
    try:
        while max_frames is None or index < max_frames:
            step = stages.run_frame(capture, index)
            if step is None:
                break
            index += 1
            if timing is None:
                continue
            spans, faces = step
            for name, span in spans.items():
                timing.spans_ns[name].append(span)
            timing.faces.append(faces)
            timing.full_search.append(stages.detector.last_was_full)
            timing.stream_start.append(index == 1)  # index is already past this frame
    finally:
        capture.release()


def time_clips(
    stages: FrameStages,
    paths: list[Path],
    passes: int,
    warmup_frames: int,
    alongside: Callable[[], None] | None = None,
) -> list[ClipTiming]:
    """`warmup_frames` of each clip discarded, then `passes` passes taken in turn over the clips (a burst of
    outside load then falls on every clip alike, not on one); `alongside` runs after each round, for the peer."""
    for path in paths:
        time_pass(stages, path, None, warmup_frames)
    timings = [ClipTiming() for _ in paths]
    for _ in range(passes):
        for path, timing in zip(paths, timings, strict=True):
            time_pass(stages, path, timing)
        if alongside is not None:
            alongside()
    return timings
