"""The offline RNN/LSTM/GRU pass: numpy matches torch, long gaps split the recording, the registry dispatches to it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import smoothing
from smoothing.base import MAX_GAP_S, NUM_CLASSES
from smoothing.fitting.recurrent_train import TorchBidirectional, offline_batch
from smoothing.fitting.sequences import Sequences
from smoothing.fitting.synthetic import synthetic_stream
from smoothing.smoothers.bidirectional import BidirectionalModel, chunks, offline_features, offline_params_path
from smoothing.smoothers.cells import CELL_KINDS

KINDS = list(CELL_KINDS)


def save_random_model(kind: str, path) -> TorchBidirectional:
    torch.manual_seed(0)
    model = TorchBidirectional(kind, hidden=12)
    np.savez(path, kind=np.array(kind), frame_period_s=np.float64(1 / 15), **model.export())
    return model


@pytest.mark.parametrize("kind", KINDS)
def test_numpy_offline_pass_matches_torch(kind, tmp_path):
    model = save_random_model(kind, tmp_path / "model.npz")
    probs, t, _ = synthetic_stream(5.0, seed=1)
    x = torch.from_numpy(offline_features(probs, t)).float()[None]
    with torch.no_grad():
        expected = torch.softmax(model(x, torch.tensor([len(t)])), dim=-1)[0].numpy()
    got = BidirectionalModel.load(kind, tmp_path / "model.npz").smooth(probs, t)
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_long_gaps_split_the_recording(tmp_path):
    save_random_model("lstm", tmp_path / "model.npz")
    model = BidirectionalModel.load("lstm", tmp_path / "model.npz")
    probs, t, _ = synthetic_stream(6.0, seed=2)
    half = len(t) // 2
    t = t.copy()
    t[half:] += 2 * MAX_GAP_S
    assert [(c.start, c.stop) for c in chunks(t)] == [(0, half), (half, len(t))]
    whole = model.smooth(probs, t)
    np.testing.assert_allclose(whole[:half], model.smooth(probs[:half], t[:half]), atol=1e-12)
    np.testing.assert_allclose(whole[half:], model.smooth(probs[half:], t[half:]), atol=1e-12)


def test_features_mark_faces_and_both_gaps():
    probs = np.full((3, NUM_CLASSES), 1 / NUM_CLASSES)
    probs[1] = np.nan
    x = offline_features(probs, np.array([0.0, 0.1, 0.5]))
    np.testing.assert_array_equal(x[:, -1], [1, 0, 1])
    np.testing.assert_array_equal(x[1, :NUM_CLASSES], 0.0)
    assert x[0, NUM_CLASSES] == 0 and x[2, NUM_CLASSES + 1] == 0  # no previous / next frame
    assert x[1, NUM_CLASSES + 1] > x[1, NUM_CLASSES] > 0  # the longer gap scales larger


@pytest.mark.parametrize("kind", KINDS)
def test_registry_offline_uses_the_shipped_bidirectional_model(kind):
    assert offline_params_path(kind).stat().st_size < 1_000_000
    probs, t, _ = synthetic_stream(8.0, seed=3)
    expected = BidirectionalModel.load(kind).smooth(probs, t)
    np.testing.assert_allclose(smoothing.smooth_offline(kind, probs, t), expected)


def test_offline_sequences_helper_shapes():
    probs, t, labels = synthetic_stream(4.0, seed=4)
    sequences = Sequences(probs, t, labels, np.zeros(len(t), dtype=np.int64), np.array([0, len(t)]))
    x, y, lengths = offline_batch(sequences, [0], [0.3], np.random.default_rng(0))
    assert x.shape == (1, int(lengths[0]), NUM_CLASSES + 3)
    assert int(lengths[0]) == len(t) - round(0.3 * len(t))
    assert set(y[0].tolist()) <= set(range(NUM_CLASSES))
