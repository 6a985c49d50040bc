"""The offline pass of the RNN, LSTM and GRU smoothers: one cell reads the recording forward, one backward, and a
head reads both, so each frame's belief uses what came after it too. Numpy inference; trained in recurrent_train."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np

from smoothing.base import MAX_GAP_S, NOMINAL_FRAME_PERIOD_S, NUM_CLASSES
from smoothing.param_files import PARAMS_DIR, ParamsError, read_params
from smoothing.smoothers.cells import NumpyCell, log_probs, scale_dt, softmax

OFFLINE_INPUT_SIZE: int = NUM_CLASSES + 3  # log-probabilities (0 without a face), dt to previous and next, has-face
DIRECTIONS: tuple[str, ...] = ("forward", "backward")
CELL_ARRAYS: tuple[str, ...] = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def offline_params_path(kind: str) -> Path:
    return PARAMS_DIR / f"{kind}-offline.npz"


def offline_features(probs: np.ndarray, t: np.ndarray, frame_period_s: float = NOMINAL_FRAME_PERIOD_S) -> np.ndarray:
    """(T, 10) inputs of one chunk of frames (no gap over MAX_GAP_S inside); NaN rows of probs mean no face."""
    has_face = ~np.isnan(probs[:, 0])
    x = np.zeros((len(t), OFFLINE_INPUT_SIZE))
    x[has_face, :NUM_CLASSES] = log_probs(probs[has_face])
    dt = np.diff(t)
    x[1:, NUM_CLASSES] = scale_dt(dt, frame_period_s)
    x[:-1, NUM_CLASSES + 1] = scale_dt(dt, frame_period_s)
    x[:, NUM_CLASSES + 2] = has_face
    return x


def chunks(t: np.ndarray, max_gap_s: float = MAX_GAP_S) -> list[slice]:
    """Stretches between gaps over max_gap_s, smoothed independently as the online smoothers reset there."""
    cuts = np.flatnonzero(np.diff(t) > max_gap_s) + 1
    bounds = [0, *cuts.tolist(), len(t)]
    return [slice(a, b) for a, b in pairwise(bounds) if b > a]


class BidirectionalModel:
    """Forward and backward cells and a head over both hidden states."""

    def __init__(self, forward: NumpyCell, backward: NumpyCell, head_weight, head_bias, frame_period_s: float) -> None:
        self.cells = (forward, backward)
        self.head_weight = np.asarray(head_weight, dtype=np.float64)
        self.head_bias = np.asarray(head_bias, dtype=np.float64)
        self.frame_period_s = float(frame_period_s)

    @classmethod
    def load(cls, kind: str, path: str | Path | None = None) -> BidirectionalModel:
        path = Path(path) if path is not None else offline_params_path(kind)
        cell_keys = [f"{d}_{name}" for d in DIRECTIONS for name in CELL_ARRAYS]
        keys = ("kind", "head_weight", "head_bias", "frame_period_s", *cell_keys)
        data = read_params(path, f"offline {kind} parameters", keys)
        if str(data["kind"]) != kind:
            raise ParamsError(f"{path} holds a {data['kind']} model, not {kind}")
        cells = [
            NumpyCell(kind, *(data[f"{d}_{name}"] for name in CELL_ARRAYS), input_size=OFFLINE_INPUT_SIZE)
            for d in DIRECTIONS
        ]
        return cls(*cells, data["head_weight"], data["head_bias"], float(data["frame_period_s"]))

    def hidden_states(self, cell: NumpyCell, x: np.ndarray) -> np.ndarray:
        state = cell.initial_state()
        out = np.empty((len(x), cell.hidden))
        for i, row in enumerate(x):
            state = cell.step(row, state)
            out[i] = state[: cell.hidden]
        return out

    def smooth(self, probs: np.ndarray, t: np.ndarray) -> np.ndarray:
        """(T, 7) beliefs; a step back in time counts as dt = 0, as online."""
        beliefs = np.empty((len(t), NUM_CLASSES))
        for part in chunks(t):
            x = offline_features(probs[part], t[part], self.frame_period_s)
            forward = self.hidden_states(self.cells[0], x)
            backward = self.hidden_states(self.cells[1], x[::-1])[::-1]
            logits = np.hstack([forward, backward]) @ self.head_weight.T + self.head_bias
            beliefs[part] = [softmax(row) for row in logits]
        return beliefs
