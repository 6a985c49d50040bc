"""The numpy cell maths the recurrent smoothers share, online and offline: torch's RNN, LSTM and GRU cells rebuilt
from their exported weights (torch's per-call overhead exceeds the math of one 7-class step), and their inputs."""

from __future__ import annotations

import numpy as np

from smoothing.base import MAX_GAP_S, NOMINAL_FRAME_PERIOD_S, NUM_CLASSES

LOG_PROB_FLOOR: float = float(np.log(1e-4))  # the classifier never means less than 1e-4; below is rounding noise
INPUT_SIZE: int = NUM_CLASSES + 2  # log-probabilities, scaled dt, has-face
CELL_KINDS: tuple[str, ...] = ("rnn", "lstm", "gru")
GATES = {"rnn": 1, "lstm": 4, "gru": 3}
CELL_WEIGHT_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "head_weight", "head_bias")  # NumpyCell's order


def scale_dt(dt: np.ndarray | float, frame_period_s: float = NOMINAL_FRAME_PERIOD_S) -> np.ndarray | float:
    """log1p(dt / period), normalised so that the longest kept gap maps to 1: one frame and a 3 s stall both fit."""
    return np.log1p(np.maximum(dt, 0.0) / frame_period_s) / np.log1p(MAX_GAP_S / frame_period_s)


def log_probs(probs: np.ndarray) -> np.ndarray:
    return np.log(np.maximum(probs, np.exp(LOG_PROB_FLOOR)))


def softmax(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max())
    return z / z.sum()


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def gru_rows(weight_ih, weight_hh, bias_ih, bias_hh) -> tuple[np.ndarray, np.ndarray]:
    """The GRU's weights as one matrix over [x, h] with rows r, z, the n gate's input part and its hidden part: the n
    gate scales only its hidden part by r (torch keeps b_hn inside r * (...)), so its biases cannot be summed."""
    weight_ih, weight_hh = np.asarray(weight_ih, dtype=np.float64), np.asarray(weight_hh, dtype=np.float64)
    bias_ih, bias_hh = np.asarray(bias_ih, dtype=np.float64), np.asarray(bias_hh, dtype=np.float64)
    hidden = weight_hh.shape[1]
    rz, n = slice(0, 2 * hidden), slice(2 * hidden, 3 * hidden)
    weight = np.block(
        [
            [weight_ih[rz], weight_hh[rz]],
            [weight_ih[n], np.zeros_like(weight_hh[n])],
            [np.zeros_like(weight_ih[n]), weight_hh[n]],
        ]
    )
    return weight, np.concatenate([bias_ih[rz] + bias_hh[rz], bias_ih[n], bias_hh[n]])


class NumpyCell:
    """torch.nn.RNNCell (tanh), LSTMCell or GRUCell, optionally with a linear head, from exported weights (torch's
    gate orders: i, f, g, o for the LSTM, r, z, n for the GRU; nn.RNN, nn.LSTM and nn.GRU layers use the same
    layout)."""

    def __init__(
        self, kind: str, weight_ih, weight_hh, bias_ih, bias_hh, head_weight=None, head_bias=None, input_size=INPUT_SIZE
    ) -> None:
        if kind not in CELL_KINDS:
            raise ValueError(f"cell kind must be one of {CELL_KINDS}, got {kind!r}")
        self.kind = kind
        self.hidden = np.asarray(weight_hh).shape[1]
        expected = (GATES[kind] * self.hidden, input_size)
        if np.asarray(weight_ih).shape != expected:
            raise ValueError(f"weight_ih has shape {np.asarray(weight_ih).shape}; expected {expected}")
        if kind == "gru":
            weight, self.bias = gru_rows(weight_ih, weight_hh, bias_ih, bias_hh)
        else:
            weight = np.hstack([weight_ih, weight_hh])
            self.bias = np.asarray(bias_ih, dtype=np.float64) + np.asarray(bias_hh, dtype=np.float64)
        self.weight = np.ascontiguousarray(weight, dtype=np.float64)
        self.head_weight = None if head_weight is None else np.ascontiguousarray(head_weight, dtype=np.float64)
        self.head_bias = None if head_bias is None else np.asarray(head_bias, dtype=np.float64)
        self.state_size = self.hidden * (2 if kind == "lstm" else 1)

    def initial_state(self) -> np.ndarray:
        return np.zeros(self.state_size)

    def step(self, x: np.ndarray, state: np.ndarray) -> np.ndarray:
        """One step; for the LSTM the state is [h, c] in one array."""
        h_size = self.hidden
        pre = self.weight @ np.concatenate([x, state[:h_size]]) + self.bias
        if self.kind == "rnn":
            return np.tanh(pre)
        if self.kind == "gru":
            reset, update = np.split(sigmoid(pre[: 2 * h_size]), 2)
            n = np.tanh(pre[2 * h_size : 3 * h_size] + reset * pre[3 * h_size :])
            return n + update * (state - n)  # (1 - z) * n + z * h
        gates = sigmoid(pre)  # the g block is recomputed with tanh below; one call is cheaper than three slices
        g = np.tanh(pre[2 * h_size : 3 * h_size])
        c = gates[h_size : 2 * h_size] * state[h_size:] + gates[:h_size] * g
        return np.concatenate([gates[3 * h_size :] * np.tanh(c), c])

    def belief(self, state: np.ndarray) -> np.ndarray:
        return softmax(self.head_weight @ state[: self.hidden] + self.head_bias)
