"""smoothing.fitting.train's fine-tune on real clips: a seed soup is the mean of the fits made with each seed."""

from __future__ import annotations

import numpy as np

import smoothing.fitting.train as fitting_train
from smoothing.fitting.real_sequences import RealClip, frame_labels
from smoothing.labels import CLASSES, NUM_CLASSES


def clip(name: str, source: str) -> RealClip:
    t = np.arange(60) / 30.0
    probs = np.full((60, NUM_CLASSES), 1.0 / NUM_CLASSES)
    segments = ((0.0, 2.0, CLASSES.index("happy")),)
    return RealClip(name, "onset", source, probs, t, frame_labels(t, segments), segments)


def test_a_seed_soup_saves_the_mean_of_each_seed_s_weights(tmp_path, monkeypatch) -> None:
    saved = {}

    def fake_trainer(kind, train, validation, epochs, seed, log, init, stability):
        return {"weight_ih": np.full((2, 2), float(seed), np.float32)}, {"epoch": seed}

    monkeypatch.setattr(fitting_train, "train_recurrent", fake_trainer)
    monkeypatch.setattr(fitting_train, "synthetic_params_path", lambda kind, offline: tmp_path / "init.npz")
    monkeypatch.setattr(fitting_train, "save_cell", lambda path, kind, w, s, start, **meta: saved.update({path: w}))
    np.savez(tmp_path / "init.npz", weight_ih=np.zeros((2, 2), np.float32))
    clips = [clip("a.mp4", "CK+"), clip("b.mp4", "MEAD"), clip("c.mp4", "MEAD")]
    fitting_train.fine_tune_cells(clips, ["lstm"], 1, offline=False, folds=[None], soup_seeds=(1, 2, 6))
    (weights,) = saved.values()
    np.testing.assert_array_equal(weights["weight_ih"], np.full((2, 2), 3.0, np.float32))
