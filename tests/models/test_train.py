"""`python -m models.train` end to end on a tiny data set, on FER2013 labels and on FER+ votes."""

from __future__ import annotations

import numpy as np
import pytest

from models.classifier import load_classifier
from models.train import main

COLUMNS = ["neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt", "unknown", "NF"]


@pytest.fixture
def tiny_data(tmp_path):
    rng = np.random.default_rng(0)
    data, votes = tmp_path / "faces.npz", tmp_path / "votes.npz"
    splits = {"training": 256, "publictest": 32}
    np.savez(data, **{f"x_{name}": rng.integers(0, 256, (n, 48, 48), dtype=np.uint8) for name, n in splits.items()},
             **{f"y_{name}": np.arange(n) % 7 for name, n in splits.items()})  # fmt: skip
    counts = {name: rng.integers(0, 4, (n, len(COLUMNS))).astype(np.int16) for name, n in splits.items()}
    for table in counts.values():
        table[:, COLUMNS.index("NF")] = 0
    np.savez(votes, columns=np.array(COLUMNS), **{f"votes_{name}": table for name, table in counts.items()},
             **{f"match_{name}": np.array(["exact"] * n) for name, n in splits.items()})  # fmt: skip
    return data, votes


@pytest.mark.parametrize("targets", ["labels", "votes"])
def test_one_epoch_writes_a_checkpoint_the_app_loads(tiny_data, tmp_path, targets):
    data, votes = tiny_data
    out = tmp_path / f"{targets}.pt"
    code = main(["--data", str(data), "--votes", str(votes), "--targets", targets, "--epochs", "1", "--device", "cpu",
                 "--workers", "0", "--out", str(out)])  # fmt: skip
    assert code == 0
    classifier = load_classifier(out)
    assert classifier.meta["targets"] == targets
    assert classifier.meta["select_labels"] == ("FER+ majority" if targets == "votes" else "FER2013")
    assert classifier.predict(np.zeros((2, 48, 48), np.uint8)).shape == (2, 7)
