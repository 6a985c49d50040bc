"""RNN/LSTM/GRU: numpy inference matches torch, training replays the smoother's steps, and the two gap modes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from smoothing.base import MAX_GAP_S, NOMINAL_FRAME_PERIOD_S, NUM_CLASSES
from smoothing.fitting.recurrent_train import (
    EpochSelection,
    TorchSmoother,
    batch_loss,
    make_batch,
    switch_counts,
    total_variation,
)
from smoothing.fitting.sequences import Sequences, drop_mask
from smoothing.fitting.synthetic import as_updates, synthetic_stream
from smoothing.smoothers.cells import CELL_KINDS, INPUT_SIZE, NumpyCell
from smoothing.smoothers.recurrent import GRUSmoother, LSTMSmoother, RNNSmoother, load_cell, params_path, step_program

KINDS = list(CELL_KINDS)
SMOOTHERS = {"rnn": RNNSmoother, "lstm": LSTMSmoother, "gru": GRUSmoother}


def random_model(kind: str, seed: int = 0) -> TorchSmoother:
    torch.manual_seed(seed)
    model = TorchSmoother(kind, hidden=16)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.mul_(3.0)  # larger weights make any mismatch show
    return model


def numpy_cell(model: TorchSmoother) -> NumpyCell:
    return NumpyCell(model.kind, **model.export())


@pytest.mark.parametrize("kind", KINDS)
def test_numpy_cell_equals_torch_cell(kind):
    """Step by step, the numpy cell gives torch's hidden state and belief (both in float64, so only the maths can
    differ: the GRU's n gate, r * (W_hn h + b_hn), keeps its hidden bias apart)."""
    model = random_model(kind).double()
    cell = NumpyCell(kind, **{name: value.detach().numpy() for name, value in model.exported_parameters().items()})
    x = torch.randn(5, INPUT_SIZE, dtype=torch.float64)
    state = cell.initial_state()
    h = c = torch.zeros(1, 16, dtype=torch.float64)
    for row in x:
        state = cell.step(row.numpy(), state)
        with torch.no_grad():
            if kind == "lstm":
                h, c = model.cell(row[None], (h, c))
            else:
                h = model.cell(row[None], h)
            expected = torch.softmax(model.head(h), dim=1)[0].numpy()
        np.testing.assert_allclose(state[: cell.hidden], h[0].numpy(), atol=1e-6)
        np.testing.assert_allclose(cell.belief(state), expected, atol=1e-6)


@pytest.mark.parametrize("gap", ["time-aware", "recursive"])
@pytest.mark.parametrize("kind", KINDS)
def test_training_replays_the_online_smoother(kind, gap):
    """The batched torch loop (with feedback and filled-in frames) gives the beliefs the numpy smoother gives."""
    model = random_model(kind, seed=1)
    probs, t, labels = synthetic_stream(6.0, seed=3)
    half = len(t) // 2
    t = t.copy()
    t[half:] += 2 * MAX_GAP_S  # a reset, first met by frames without a face
    probs = probs.copy()
    probs[half : half + 4] = np.nan
    sequences = Sequences(probs, t, labels, np.zeros(len(t), dtype=np.int64), np.array([0, len(t)]))
    rng = np.random.default_rng(0)
    batch = make_batch(sequences, [0], [0.3], [gap], rng)
    with torch.no_grad():
        logits = model(batch)[0]
    keep = drop_mask(t, 0.3, np.random.default_rng(0))  # the same drops make_batch drew from the same seed
    smoother = SMOOTHERS[kind](cell=numpy_cell(model), gap=gap)
    online = [smoother.update(row, ti) for row, ti in zip(as_updates(probs[keep]), t[keep], strict=True)]
    program = step_program(t[keep], ~np.isnan(probs[keep][:, 0]), gap)
    frames = program.frames
    assert program.reset.sum() == 1
    replayed = torch.softmax(logits[: len(frames)], dim=1).numpy()
    real_steps = frames >= 0
    face_steps = real_steps & program.has_face  # without a face the smoother shows its belief relaxed to the prior
    np.testing.assert_allclose(replayed[face_steps], np.array(online)[frames[face_steps]], atol=1e-5)
    if gap == "recursive":
        assert (~real_steps).sum() > 0  # the drops did create filled-in frames


def count_steps(smoother) -> list[int]:
    calls = [0]
    step = smoother.cell.step

    def counting(x, state):
        calls[0] += 1
        return step(x, state)

    smoother.cell.step = counting
    return calls


@pytest.mark.parametrize("missing", [0, 1, 4, 20])
def test_gap_modes_cost(missing):
    p = np.full(NUM_CLASSES, 1 / NUM_CLASSES)
    period = NOMINAL_FRAME_PERIOD_S
    for gap, expected in [("time-aware", 1), ("recursive", missing + 1)]:
        smoother = RNNSmoother(cell=numpy_cell(random_model("rnn")), gap=gap)
        smoother.update(p, 0.0)
        calls = count_steps(smoother)
        smoother.update(p, (missing + 1) * period)
        assert calls[0] == expected


def test_time_aware_predict_runs_the_gap_step_without_committing():
    smoother = LSTMSmoother(cell=numpy_cell(random_model("lstm")))
    p = np.array([0.1, 0.05, 0.05, 0.5, 0.1, 0.1, 0.1])
    smoother.update(p, 0.0)
    state = smoother.state.copy()
    predicted = smoother.predict(1.0)
    np.testing.assert_array_equal(smoother.state, state)
    np.testing.assert_allclose(predicted, smoother.update(None, 1.0))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("missing", [1, 2, 5, 12])
def test_recursive_predict_across_missing_frames_equals_stepping_through_them(kind, missing):
    """The recursive gap rule fills in one step per missing frame: predicting across k of them gives what k updates
    without a face give, so a dropped frame's row is what stepping would have shown."""
    probs, _, _ = synthetic_stream(3.0, seed=4)
    faces = [row for row in as_updates(probs) if row is not None][:8]
    predicting, stepping = (SMOOTHERS[kind](gap="recursive") for _ in range(2))
    period = predicting.frame_period_s
    for i, p in enumerate(faces):
        predicting.update(p, i * period)
        stepping.update(p, i * period)
    last = (len(faces) - 1) * period
    predicted = predicting.predict(last + missing * period)
    for k in range(1, missing + 1):
        stepped = stepping.update(None, last + k * period)
    np.testing.assert_allclose(predicted, stepped, atol=1e-12)


def test_rejects_an_unknown_gap_mode():
    with pytest.raises(ValueError, match="gap"):
        RNNSmoother(cell=numpy_cell(random_model("rnn")), gap="interpolate")


@pytest.mark.parametrize("kind", KINDS)
def test_shipped_weights_load_and_are_small(kind):
    path = params_path(kind)
    assert path.stat().st_size < 1_000_000
    cell, meta = load_cell(kind)
    assert cell.kind == kind
    assert meta["frame_period_s"] > 0
    with pytest.raises(ValueError):
        load_cell("rnn" if kind == "lstm" else "lstm", path)


def test_epoch_selection_prefers_steady_epochs_then_low_cross_entropy():
    selection = EpochSelection(max_switch_ratio=1.3)
    selection.offer(0, cross_entropy=0.80, switch_ratio=2.0, weights=lambda: "flickery")
    assert selection.weights == "flickery"  # nothing steady yet: the steadiest so far
    selection.offer(1, cross_entropy=1.10, switch_ratio=1.2, weights=lambda: "steady")
    selection.offer(2, cross_entropy=0.70, switch_ratio=1.5, weights=lambda: "better but flickery")
    selection.offer(3, cross_entropy=0.90, switch_ratio=1.3, weights=lambda: "steady and better")
    assert selection.weights == "steady and better"
    assert selection.summary["epoch"] == 3


def test_epoch_selection_never_prefers_an_epoch_worse_than_no_smoothing():
    selection = EpochSelection(max_switch_ratio=1.3)
    selection.offer(0, cross_entropy=0.50, switch_ratio=1.0, weights=lambda: "fits the clips", beats_raw=False)
    assert selection.weights == "fits the clips"  # the only one so far
    selection.offer(1, cross_entropy=0.90, switch_ratio=2.0, weights=lambda: "flickery, but better than raw")
    assert selection.weights == "flickery, but better than raw"
    selection.offer(2, cross_entropy=0.40, switch_ratio=1.0, weights=lambda: "best on the clips", beats_raw=False)
    assert selection.weights == "flickery, but better than raw"


def test_switch_counts_and_total_variation():
    logits = torch.tensor([[[2.0, 0.0], [0.0, 2.0], [0.0, 2.0], [2.0, 0.0]]])
    logits = torch.nn.functional.pad(logits, (0, NUM_CLASSES - 2), value=-20.0)
    target = torch.tensor([[0, 0, 1, 1]])
    scored = torch.tensor([[True, True, True, True]])
    assert switch_counts(logits, target, scored) == (2, 1)
    linked = torch.tensor([[1.0, 0.0, 1.0]])
    change = torch.softmax(logits[0], dim=-1)
    expected = ((change[1] - change[0]).abs().sum() + (change[3] - change[2]).abs().sum()) / 2
    assert total_variation(logits, linked).item() == pytest.approx(expected.item())


def test_flicker_penalty_counts_arrived_frames_not_filled_in_steps():
    """A belief that flips at every arrived frame costs the same per frame in both gap modes: the recursive mode's
    filled-in steps (which change nothing here) do not dilute it."""
    t = np.arange(0.0, 4.0, 1.0 / 30.0)
    labels = np.zeros(len(t), dtype=np.int64)
    probs = np.full((len(t), NUM_CLASSES), 1.0 / NUM_CLASSES)
    sequences = Sequences(probs, t, labels, np.zeros(len(t), dtype=np.int64), np.array([0, len(t)]))

    def flicker_cost(gap: str) -> tuple[float, int]:
        batch = make_batch(sequences, [0], [0.5], [gap], np.random.default_rng(0))
        arrived = batch.arrived[0]
        flip = torch.cumsum(arrived.long(), dim=0) % 2  # the argmax changes at each arrived frame, not in between
        logits = (20.0 * torch.nn.functional.one_hot(flip, NUM_CLASSES).float())[None]
        return total_variation(logits, *batch.flicker_links()).item(), int((~arrived).sum())

    time_aware, _ = flicker_cost("time-aware")
    recursive, filled_in = flicker_cost("recursive")
    assert filled_in > 0
    assert recursive == pytest.approx(time_aware, rel=1e-4)
    assert time_aware == pytest.approx(2.0, rel=1e-4)  # a whole flip of a one-hot belief is an L1 change of 2


def test_batch_loss_uses_the_per_arrived_frame_penalty():
    model = random_model("rnn")
    probs, t, labels = synthetic_stream(4.0, seed=2)
    sequences = Sequences(probs, t, labels, np.zeros(len(t), dtype=np.int64), np.array([0, len(t)]))
    batch = make_batch(sequences, [0], [0.5], ["recursive"], np.random.default_rng(0))
    with torch.no_grad():
        logits = model(batch)
        loss, scores = batch_loss(model, batch, stability=1.0)
        linked, counted = batch.flicker_links()
        penalty = total_variation(logits, linked, counted)
    assert loss.item() == pytest.approx(scores["cross_entropy"] + penalty.item(), rel=1e-5)
    assert penalty.item() > total_variation(logits, linked).item()  # per step it would be diluted


def test_recursive_mode_fills_in_at_the_configured_frame_period():
    p = np.full(NUM_CLASSES, 1 / NUM_CLASSES)
    steps = {}
    for period in (1 / 15, 1 / 30):
        smoother = RNNSmoother(cell=numpy_cell(random_model("rnn")), gap="recursive", frame_period_s=period)
        smoother.update(p, 0.0)
        calls = count_steps(smoother)
        smoother.update(p, 0.4)
        steps[period] = calls[0]
    assert steps == {1 / 15: 6, 1 / 30: 12}
