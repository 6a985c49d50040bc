"""A tiny training corpus, written by the tests in the shared data's layouts: FER2013-style faces with FER+ votes, and
a folder of in-the-wild stills."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

import models.training.fer_crops as fer_crops
import models.training.wild as wild
from smoothing.labels import CLASSES

COLUMNS = ["neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt", "unknown", "NF"]
SPLITS = {"training": 256, "publictest": 32}
STILLS = 42


@dataclass
class TinyCorpus:
    data: Path
    votes: Path
    wild: Path
    real: Path  # absent: the real clips are not needed to train

    @property
    def args(self) -> list[str]:
        return [
            "--data",
            str(self.data),
            "--votes",
            str(self.votes),
            "--wild",
            str(self.wild),
            "--real",
            str(self.real),
        ]


@pytest.fixture
def tiny_corpus(tmp_path, monkeypatch) -> TinyCorpus:
    """Noise faces (YuNet finds none: the stills fall back to their centre) with labels cycling through the classes."""
    monkeypatch.setattr(fer_crops, "CACHE_DIR", tmp_path / "crops")
    monkeypatch.setattr(wild, "CACHE_DIR", tmp_path / "wild-cache")
    rng = np.random.default_rng(0)
    data, votes, stills = tmp_path / "faces.npz", tmp_path / "votes.npz", tmp_path / "wild"
    np.savez(data, **{f"x_{name}": rng.integers(0, 256, (n, 48, 48), dtype=np.uint8) for name, n in SPLITS.items()},
             **{f"y_{name}": np.arange(n) % 7 for name, n in SPLITS.items()})  # fmt: skip
    counts = {name: rng.integers(0, 4, (n, len(COLUMNS))).astype(np.int16) for name, n in SPLITS.items()}
    for table in counts.values():
        table[:, COLUMNS.index("NF")] = 0
    np.savez(votes, columns=np.array(COLUMNS), **{f"votes_{name}": table for name, table in counts.items()},
             **{f"match_{name}": np.array(["exact"] * n) for name, n in SPLITS.items()})  # fmt: skip
    (stills / "images").mkdir(parents=True)
    rows = ["file,label,set,group"]
    for i in range(STILLS):
        cv2.imwrite(str(stills / "images" / f"s{i}.jpg"), rng.integers(0, 256, (96, 96), dtype=np.uint8))
        rows.append(f"images/s{i}.jpg,{CLASSES[i % 7]},{wild.SETS[i % 3]},g{i // 2}")
    (stills / "labels.csv").write_text("\n".join(rows) + "\n")
    return TinyCorpus(data, votes, stills, tmp_path / "no-real-clips")
