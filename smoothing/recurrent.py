"""RNN and LSTM smoothers run in numpy (torch's per-call overhead exceeds the math of one 7-class step).

Each step sees the log-probabilities, the scaled dt and a has-face flag. Without evidence (no face, or a frame
filled in for a dropped one) the input is the model's own last belief, with has-face 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from smoothing.base import MAX_GAP_S, NOMINAL_FRAME_PERIOD_S, NUM_CLASSES, SmootherBase, relax_to_prior
from smoothing.param_files import ParamsError, read_params
from smoothing.registry import register

PARAMS_DIR = Path(__file__).resolve().parent / "params"
LOG_PROB_FLOOR: float = float(np.log(1e-4))  # the classifier never means less than 1e-4; below is rounding noise
INPUT_SIZE: int = NUM_CLASSES + 2  # log-probabilities, scaled dt, has-face
GAP_MODES: tuple[str, ...] = ("time-aware", "recursive")
CELL_KINDS: tuple[str, ...] = ("rnn", "lstm")
GATES = {"rnn": 1, "lstm": 4}


def scale_dt(dt: np.ndarray | float, frame_period_s: float = NOMINAL_FRAME_PERIOD_S) -> np.ndarray | float:
    """log1p(dt / period), normalised so that the longest kept gap maps to 1: one frame and a 3 s stall both fit."""
    return np.log1p(np.maximum(dt, 0.0) / frame_period_s) / np.log1p(MAX_GAP_S / frame_period_s)


def log_probs(probs: np.ndarray) -> np.ndarray:
    return np.log(np.maximum(probs, np.exp(LOG_PROB_FLOOR)))


def step_input(evidence: np.ndarray, dt: float, has_face: bool, frame_period_s: float) -> np.ndarray:
    """The (9,) input of one step; evidence is the frame's probabilities, or the model's own belief without a face."""
    x = np.empty(INPUT_SIZE)
    x[:NUM_CLASSES] = log_probs(evidence)
    x[NUM_CLASSES] = scale_dt(dt, frame_period_s)
    x[NUM_CLASSES + 1] = 1.0 if has_face else 0.0
    return x


def softmax(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max())
    return z / z.sum()


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


class NumpyCell:
    """torch.nn.RNNCell (tanh) or LSTMCell, optionally with a linear head, from exported weights (torch's i, f, g, o
    gate order; nn.RNN and nn.LSTM layers use the same layout)."""

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
        self.weight = np.ascontiguousarray(np.hstack([weight_ih, weight_hh]), dtype=np.float64)
        self.bias = np.asarray(bias_ih, dtype=np.float64) + np.asarray(bias_hh, dtype=np.float64)
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
        gates = sigmoid(pre)  # the g block is recomputed with tanh below; one call is cheaper than three slices
        g = np.tanh(pre[2 * h_size : 3 * h_size])
        c = gates[h_size : 2 * h_size] * state[h_size:] + gates[:h_size] * g
        return np.concatenate([gates[3 * h_size :] * np.tanh(c), c])

    def belief(self, state: np.ndarray) -> np.ndarray:
        return softmax(self.head_weight @ state[: self.hidden] + self.head_bias)


def params_path(kind: str) -> Path:
    return PARAMS_DIR / f"{kind}.npz"


def load_cell(kind: str, path: str | Path | None = None) -> tuple[NumpyCell, dict]:
    """The shipped cell weights and the options they were trained with (frame period)."""
    path = Path(path) if path is not None else params_path(kind)
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "head_weight", "head_bias")
    data = read_params(path, f"{kind} parameters", ("kind", "frame_period_s", *names))
    if str(data["kind"]) != kind:
        raise ParamsError(f"{path} holds a {data['kind']} cell, not {kind}")
    return NumpyCell(kind, *(data[name] for name in names)), {"frame_period_s": float(data["frame_period_s"])}


def fill_in_steps(dt: float, frame_period_s: float) -> tuple[int, float]:
    """Recursive mode: how many frames went missing in a gap of dt, and the dt left for the real step."""
    missing = max(round(dt / frame_period_s) - 1, 0)
    return missing, dt - missing * frame_period_s


@dataclass
class StepProgram:
    """The steps RecurrentSmoother.update takes over a stream of arrived frames, for batched training."""

    frames: np.ndarray  # the arrived frame each step belongs to, -1 for a filled-in frame
    dt: np.ndarray  # seconds fed to the step
    has_face: np.ndarray
    reset: np.ndarray  # the state returns to its initial value before this step (a gap over max_gap_s)


def step_program(
    t: np.ndarray,
    has_face: np.ndarray,
    gap: str,
    frame_period_s: float = NOMINAL_FRAME_PERIOD_S,
    max_gap_s: float = MAX_GAP_S,
) -> StepProgram:
    """Replays update()'s decisions (fill-ins, skipped duplicates, resets) without running the cell."""
    frames, dts, faces, resets = [], [], [], []
    previous, pending_reset = None, False
    for i, (ti, face) in enumerate(zip(t, has_face, strict=True)):
        dt = 0.0 if previous is None else max(float(ti) - previous, 0.0)
        previous = float(ti)
        if dt > max_gap_s:
            dt, pending_reset = 0.0, True
        if not face and dt == 0:
            continue
        if gap == "recursive":
            missing, dt = fill_in_steps(dt, frame_period_s)
            frames += [-1] * missing
            dts += [frame_period_s] * missing
            faces += [False] * missing
            resets += [False] * missing
        frames.append(i)
        dts.append(dt)
        faces.append(bool(face))
        resets.append(pending_reset)
        pending_reset = False
    return StepProgram(
        np.array(frames, dtype=np.int64), np.array(dts), np.array(faces, dtype=bool), np.array(resets, dtype=bool)
    )


class RecurrentSmoother(SmootherBase):
    """A trained cell run frame by frame; gap="time-aware" steps once with the real dt, gap="recursive" steps once
    per missing frame at frame_period_s (the camera's nominal period; by default the one trained with), feeding its
    own belief back (cost grows with the gap)."""

    kind = "rnn"

    def __init__(
        self,
        params: str | Path | None = None,
        gap: str = "time-aware",
        frame_period_s: float | None = None,
        max_gap_s: float = MAX_GAP_S,
        cell: NumpyCell | None = None,
        offline_params: str | Path | None = None,
    ) -> None:
        if gap not in GAP_MODES:
            raise ValueError(f"gap must be one of {GAP_MODES}, got {gap!r}")
        trained_period_s = NOMINAL_FRAME_PERIOD_S
        if cell is None:
            cell, meta = load_cell(self.kind, params)
            trained_period_s = meta["frame_period_s"]
        self.cell = cell
        self.gap = gap
        self.dt_unit_s = trained_period_s  # the dt input keeps the scale it was trained with, whatever the camera
        self.frame_period_s = trained_period_s if frame_period_s is None else float(frame_period_s)
        if self.frame_period_s <= 0:
            raise ValueError("frame_period_s must be positive")
        super().__init__(max_gap_s)
        self.offline_params = offline_params
        self.prior = self.cell.belief(self.cell.initial_state())
        self.reset()

    def restart(self) -> None:
        self.state = self.cell.initial_state()
        self.belief = self.prior.copy()
        self.silence_s = 0.0  # seconds since the last face frame

    def advance(self, state: np.ndarray, belief: np.ndarray, probs: np.ndarray | None, dt: float):
        """Runs the steps that bring (state, belief) to a frame dt later; returns the new pair, touching nothing."""
        if self.gap == "recursive":
            missing, dt = fill_in_steps(dt, self.frame_period_s)
            for _ in range(missing):
                state = self.cell.step(step_input(belief, self.frame_period_s, False, self.dt_unit_s), state)
                belief = self.cell.belief(state)
        evidence = belief if probs is None else probs
        state = self.cell.step(step_input(evidence, dt, probs is not None, self.dt_unit_s), state)
        return state, self.cell.belief(state)

    def step(self, p: np.ndarray | None, dt: float) -> np.ndarray:
        if dt > self.max_gap_s:
            self.state, self.belief = self.cell.initial_state(), self.prior.copy()
            dt = 0.0
        if p is not None or dt > 0:  # a repeated frame without a face brings neither time nor evidence
            self.state, self.belief = self.advance(self.state, self.belief, p, dt)
        self.silence_s = 0.0 if p is not None else self.silence_s + dt
        return self.shown(self.belief, self.silence_s)

    def peek(self, dt: float) -> np.ndarray:
        if dt > self.max_gap_s:
            return self.prior.copy()
        if dt == 0:
            return self.shown(self.belief, self.silence_s)
        return self.shown(self.advance(self.state, self.belief, None, dt)[1], self.silence_s + dt)

    def shown(self, belief: np.ndarray, silence_s: float) -> np.ndarray:
        """Without a face the net's belief is mixed toward the prior, as every smoother's is (base.relax_to_prior):
        fed its own belief for seconds, the fine-tuned nets drift to a confident neutral that no frame supports."""
        return relax_to_prior(belief, self.prior, silence_s, self.max_gap_s) if silence_s > 0 else belief.copy()

    def load_offline(self):  # -> smoothing.bidirectional.BidirectionalModel (which imports this module)
        """The bidirectional twin of this model (smoothing.bidirectional) that smooth_offline runs."""
        from smoothing.bidirectional import BidirectionalModel

        return BidirectionalModel.load(self.kind, self.offline_params)

    def smooth_offline(self, probs: np.ndarray, t: np.ndarray) -> np.ndarray:
        """A whole recording through load_offline()'s model."""
        return self.load_offline().smooth(probs, t)


@register("rnn")
class RNNSmoother(RecurrentSmoother):
    """Elman (tanh) RNN smoother."""

    kind = "rnn"


@register("lstm")
class LSTMSmoother(RecurrentSmoother):
    """LSTM smoother."""

    kind = "lstm"
