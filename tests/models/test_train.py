"""`python -m models.train` end to end on a tiny data set, on FER2013 labels and on FER+ votes."""

from __future__ import annotations

import numpy as np
import pytest

import models.fer_crops as fer_crops
from models.classifier import load_classifier
from models.train import FINE_TUNE_MAX_LR, main, mean_accuracy, training_targets

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


SELECTED_ON = {"labels": "FER2013", "votes": "FER+ majority", "both": "mean of FER2013 and FER+ majority"}


@pytest.mark.parametrize(("targets", "crops"), [("labels", "fer"), ("votes", "fer"), ("both", "aligned")])
def test_one_epoch_writes_a_checkpoint_the_app_loads(tiny_data, tmp_path, monkeypatch, targets, crops):
    data, votes = tiny_data
    monkeypatch.setattr(fer_crops, "CACHE_DIR", tmp_path / "crops")
    out = tmp_path / f"{targets}.pt"
    code = main(["--data", str(data), "--votes", str(votes), "--targets", targets, "--crops", crops, "--epochs", "1",
                 "--device", "cpu", "--workers", "0", "--out", str(out)])  # fmt: skip
    assert code == 0
    classifier = load_classifier(out)
    assert (classifier.meta["targets"], classifier.meta["crops"]) == (targets, crops)
    assert classifier.meta["select_labels"] == SELECTED_ON[targets]
    assert ("ece_after_ferplus_majority" in classifier.meta) == (targets != "labels")
    assert classifier.predict(np.zeros((2, 48, 48), np.uint8)).shape == (2, 7)


def test_both_targets_give_the_original_label_half_the_weight_and_the_crowd_the_other_half(tiny_data):
    _, votes = tiny_data
    labels = np.arange(256) % 7
    trained, targets = training_targets("both", labels, str(votes), "training")
    _, crowd = training_targets("votes", labels, str(votes), "training")
    np.testing.assert_allclose(targets.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(targets[np.arange(len(targets)), labels[trained]],
                               0.5 + crowd[np.arange(len(crowd)), labels[trained]] / 2, rtol=1e-6)  # fmt: skip


def test_the_epoch_is_chosen_on_the_mean_accuracy_over_the_label_sets_ignoring_faces_without_a_majority():
    logits = np.eye(7)[[0, 1, 2, 3]]
    original = np.array([0, 1, 2, 4])  # 3 of 4 right
    majority = np.array([0, 5, -1, -1])  # 1 of 2 counted right
    assert mean_accuracy(logits, [original, majority]) == pytest.approx((0.75 + 0.5) / 2)


def test_a_fine_tune_starts_from_a_checkpoint_at_a_tenth_of_the_peak_rate(tiny_data, tmp_path):
    data, _ = tiny_data
    first, tuned = tmp_path / "first.pt", tmp_path / "tuned.pt"
    common = ["--data", str(data), "--epochs", "1", "--device", "cpu", "--workers", "0"]
    assert main([*common, "--out", str(first)]) == 0
    assert main([*common, "--init", str(first), "--out", str(tuned)]) == 0
    meta = load_classifier(tuned).meta
    assert meta["init"] == str(first) and meta["max_lr"] == pytest.approx(FINE_TUNE_MAX_LR)
    assert main([*common, "--init", str(tmp_path / "absent.pt"), "--out", str(tuned)]) == 2
