"""The CNN-LSTM experiment's net starts as the shipped LSTM, so that what it learns from the embedding is all that
differs from its control."""

import numpy as np
import pytest

import smoothing
from smoothing.fitting.feature_lstm import EMBEDDING_SIZE, FeatureLSTM, feature_batch
from smoothing.fitting.recurrent_train import load_exported
from smoothing.registry import run_online
from smoothing.smoothers.recurrent import params_path


def stream(frames: int = 40, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities with a random embedding appended, at irregular times (gaps of one to three frames)."""
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.full(7, 0.7), frames)
    t = np.cumsum(rng.integers(1, 4, frames)) / 30.0
    return np.concatenate([probs, rng.normal(size=(frames, EMBEDDING_SIZE))], axis=1), t


@pytest.mark.parametrize("projection", [0, 8])
def test_the_net_starts_as_the_shipped_lstm_whatever_the_embedding(projection):
    wide, t = stream()
    model = FeatureLSTM(projection)
    model.start_from(dict(np.load(params_path("lstm"))))
    batch, (frames,) = feature_batch([(wide, t, np.zeros(len(t), dtype=np.int64))])
    beliefs = np.exp(model(batch)[0].log_softmax(dim=1).detach().numpy())
    shipped = run_online(smoothing.create("lstm"), wide[:, :7], t)
    np.testing.assert_array_equal(frames, np.arange(len(t)))  # one step per arrived face frame
    np.testing.assert_allclose(beliefs, shipped, atol=1e-5)


def test_the_exported_weights_carry_the_projection_so_the_epoch_loop_keeps_it():
    """recurrent_train.fit_epochs keeps the chosen epoch as export() and restores it with load_exported."""
    wide, t = stream()
    batch, _ = feature_batch([(wide, t, np.zeros(len(t), dtype=np.int64))])
    trained, restored = FeatureLSTM(8), FeatureLSTM(8)
    load_exported(restored, trained.export())
    assert {"project_weight", "project_bias"} <= set(trained.export())
    np.testing.assert_allclose(restored(batch).detach().numpy(), trained(batch).detach().numpy(), atol=1e-6)
