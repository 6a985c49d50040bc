"""Small per-frame tables in the layouts other tools write, for the smoothing tests: py-feat's Fex CSV (Detector
.detect_video(...).to_csv), fer's Video.analyze CSV, and a table of a tool nobody knows (named columns)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from smoothing.labels import CLASSES

FPS = 30.0
PY_FEAT_EMOTIONS = ("anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral")  # CLASSES' order


@dataclass(frozen=True)
class Person:
    """A face in the synthetic clip: where it sits, the emotion it shows, and the frames it is missing from."""

    x: float
    emotion: str
    absent: Sequence[int] = ()


def probs_of(emotion: str, frame: int) -> np.ndarray:
    """A classifier's flickering read of a held emotion: mostly it, every third frame neutral on top (values that do
    not round to a sum of 1 at 2 decimals, as a real classifier's rarely do)."""
    probs = np.full(len(CLASSES), 0.0567)
    probs[CLASSES.index(emotion)] = 0.6598
    if frame % 3 == 0:
        probs[CLASSES.index(emotion)], probs[CLASSES.index("neutral")] = 0.2933, 0.4232
    return probs / probs.sum()


def seen(people: Sequence[Person], frame: int) -> list[tuple[int, Person]]:
    """The people in a frame, in the order a detector might list them: right to left on odd frames."""
    present = [(number, person) for number, person in enumerate(people) if frame not in person.absent]
    return present[::-1] if frame % 2 else present


def py_feat_table(people: Sequence[Person], frames: int, empty: Sequence[int] = ()) -> pd.DataFrame:
    """As py-feat writes it: a row per frame and face with FaceRect* boxes, AUs and landmarks beside the 7 emotions,
    `approx_time` in whole seconds ('00:01'), and one row of NaN for a frame where no face was found (`empty`)."""
    rows = []
    for frame in range(frames):
        faces = [] if frame in empty else seen(people, frame)
        for _, person in faces:
            probs = probs_of(person.emotion, frame)
            box = {"FaceRectX": person.x + frame, "FaceRectY": 80.5, "FaceRectWidth": 120.2, "FaceRectHeight": 150.7}
            rows.append(
                {"frame": frame, **box, "FaceScore": 0.99, "x_0": person.x + 10, "y_0": 120.0, "AU01": 0.2,
                 **dict(zip(PY_FEAT_EMOTIONS, probs, strict=True)), "input": "clip.mp4",
                 "approx_time": f"00:{int(frame / FPS):02d}"}
            )  # fmt: skip
        if not faces:
            rows.append({"frame": frame, "input": "clip.mp4", "approx_time": f"00:{int(frame / FPS):02d}"})
    return pd.DataFrame(rows)


def fer_table(people: Sequence[Person], frames: int) -> pd.DataFrame:
    """As fer's Video.analyze writes it: a row per frame (no frame number, no time), a column group per face in its
    detector's order (box0, angry0 ... neutral0, box1 ...), boxes as '[x, y, w, h]' text, probabilities rounded to
    2 decimals; a face missing from a frame leaves its group empty."""
    rows = []
    for frame in range(frames):
        row: dict[str, object] = {}
        for index, (_, person) in enumerate(seen(people, frame)):
            row[f"box{index}"] = str([round(person.x) + frame, 60, 110, 130])
            probs = np.round(probs_of(person.emotion, frame), 2)
            row.update({f"{name}{index}": p for name, p in zip(CLASSES, probs, strict=True)})
        rows.append(row)
    return pd.DataFrame(rows)


def unknown_tool_table(people: Sequence[Person], frames: int) -> pd.DataFrame:
    """A tool this project does not know: times in `seconds`, a `person` index, percentages with capitalised names,
    no neutral class and no boxes."""
    names = {"angry": "Anger", "disgust": "Disgust", "fear": "Fear", "happy": "Joy", "sad": "Sadness",
             "surprise": "Surprise"}  # fmt: skip
    rows = []
    for frame in range(frames):
        for number, person in seen(people, frame):
            probs = probs_of(person.emotion, frame)
            percent = {column: 100 * probs[CLASSES.index(label)] for label, column in names.items()}
            rows.append({"seconds": frame / FPS, "person": number, **percent})
    return pd.DataFrame(rows)
